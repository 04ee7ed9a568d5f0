"""The ledger store: one DuckDB database with an extract snapshot, its balances and write-offs.

A file store is opened for each operation under an exclusive lock file, so a notebook, the
CLI and a second analyst's process can share one store: they take turns, and a commit
always sees the balances as they are at that moment. ``":memory:"`` keeps one connection
for the life of the :class:`Ledger` (tests, quick looks).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from writeoff_analytics import queries
from writeoff_analytics._atomic import private_umask
from writeoff_analytics.errors import LedgerError

if TYPE_CHECKING:
    import polars as pl

#: Where the CLI keeps its store unless told otherwise.
DEFAULT_DB = Path("data") / "ledger.duckdb"
MEMORY = ":memory:"
#: DuckDB must never try to download an extension (no network here; fail fast instead).
DUCKDB_CONFIG: dict[str, str | bool | int | float | list[str]] = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
#: How long an operation waits for another process to release the store.
LOCK_TIMEOUT_S = 120.0


class Ledger:
    """A handle on a ledger store.

    Parameters
    ----------
    path
        A DuckDB file (created if missing; see :meth:`open_existing`) or ``":memory:"``.

    Examples
    --------
    >>> ledger = Ledger(":memory:")
    >>> ledger.is_loaded()
    False
    """

    def __init__(self, path: str | os.PathLike[str] = DEFAULT_DB) -> None:
        self.path = str(path)
        self._memory_con: duckdb.DuckDBPyConnection | None = None
        self._active: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.RLock()
        self._cache: dict[str, tuple[int, pl.DataFrame]] = {}
        with self.connect() as con:
            queries.run(con, "create_store")

    @classmethod
    def open_existing(cls, path: str | os.PathLike[str] = DEFAULT_DB) -> Ledger:
        """Open a store that exists already; never create one (for commands that only read).

        Raises
        ------
        LedgerError
            If there is no store at ``path``, or ``path`` is a folder or not a DuckDB file.

        Examples
        --------
        >>> Ledger.open_existing("typo/x.duckdb")
        Traceback (most recent call last):
        ...
        writeoff_analytics.errors.LedgerError: no ledger at typo/x.duckdb; run `writeoff load EXTRACT --db typo/x.duckdb` first.
        """
        if str(path) != MEMORY:
            file = Path(path)
            if file.is_dir():
                msg = f"{file} is a folder, not a ledger store; pass --db with the store's file."
                raise LedgerError(msg)
            if not file.is_file():
                msg = f"no ledger at {file}; run `writeoff load EXTRACT --db {file}` first."
                raise LedgerError(msg)
            if not is_duckdb_file(file):
                msg = f"{file} is not a ledger store (not a DuckDB file); pass --db with the store's file."
                raise LedgerError(msg)
        return cls(path)

    def __repr__(self) -> str:
        return f"Ledger({self.path!r})"

    @property
    def is_memory(self) -> bool:
        """Whether the store lives in memory only."""
        return self.path == MEMORY

    @contextlib.contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Yield a connection to the store, holding it exclusively until the block ends.

        Nested calls in one thread reuse the outer connection.

        Raises
        ------
        LedgerError
            If another process holds the store for longer than the lock timeout.
        """
        with self._lock:
            if self._active is not None:
                yield self._active
                return
            if self.is_memory:
                if self._memory_con is None:
                    self._memory_con = duckdb.connect(MEMORY, config=DUCKDB_CONFIG)
                self._active = self._memory_con
                try:
                    yield self._memory_con
                finally:
                    self._active = None
                return
            folder = Path(self.path).parent
            # The store, its .wal and lock are created for the owner only (the group too in
            # a group-shared folder): DuckDB takes no mode, so the umask says it while the
            # store is open (the .wal comes and goes with each checkpoint).
            with private_umask(folder):
                folder.mkdir(parents=True, exist_ok=True)
                with _file_lock(self.path + ".lock"):
                    con = duckdb.connect(self.path, config=DUCKDB_CONFIG)
                    self._active = con
                    try:
                        yield con
                    finally:
                        self._active = None
                        con.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Yield a connection inside one transaction: committed on success, rolled back on error.

        Every write bumps the store's generation, so cached frames are rebuilt.
        """
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION").fetchall()
            try:
                yield con
                con.execute(
                    "UPDATE store_meta SET value = CAST(CAST(value AS BIGINT) + 1 AS VARCHAR) "
                    "WHERE key = 'generation'"
                ).fetchall()
                con.execute("COMMIT").fetchall()
            except BaseException:
                with contextlib.suppress(duckdb.Error):
                    con.execute("ROLLBACK").fetchall()
                raise

    def generation(self) -> int:
        """A counter that grows with every write (load, commit, reversal)."""
        with self.connect() as con:
            rows = con.execute("SELECT value FROM store_meta WHERE key = 'generation'").fetchall()
        return int(rows[0][0]) if rows else 0

    def is_loaded(self) -> bool:
        """Whether an extract has been loaded (the derived balances exist)."""
        with self.connect() as con:
            rows = con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'charge_balances'"
            ).fetchall()
        return bool(rows[0][0])

    def require_loaded(self) -> None:
        """Raise a clear error if no extract has been loaded into this store yet."""
        if not self.is_loaded():
            msg = f"no extract is loaded in {self.path}; load one first (writeoff load EXTRACT --db {self.path})"
            raise LedgerError(msg)

    def frame(self, table: str) -> pl.DataFrame:
        """Return a store table as a Polars frame, cached until the next write.

        ``table`` must be one of the store's known tables (never user text).
        """
        if table not in _FRAME_TABLES:
            msg = f"{table!r} is not a store table; known: {', '.join(sorted(_FRAME_TABLES))}"
            raise LedgerError(msg)
        self.require_loaded()
        gen = self.generation()
        hit = self._cache.get(table)
        if hit is not None and hit[0] == gen:
            return hit[1]
        with self.connect() as con:
            df = queries.frame(con, f"select_all_{table}")
        self._cache[table] = (gen, df)
        return df

    def balances(self) -> pl.DataFrame:
        """The derived balances, one row per charge (see ``queries/derive_charge_balances.sql``)."""
        return self.frame("charge_balances")

    def fingerprint(self) -> str | None:
        """The fingerprint of the loaded extract (SHA-256 over its files), or None."""
        with self.connect() as con:
            rows = con.execute(
                "SELECT fingerprint FROM import_log ORDER BY import_id DESC LIMIT 1"
            ).fetchall()
        return str(rows[0][0]) if rows else None


#: A DuckDB database file says "DUCK" in bytes 8..12 (checked before a lock file is made beside it).
_DUCKDB_MAGIC = b"DUCK"
_MAGIC_END = 12

def is_duckdb_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a DuckDB database file (its header says so; nothing is opened or made).

    Examples
    --------
    >>> is_duckdb_file(__file__)
    False
    """
    try:
        with Path(path).open("rb") as fh:
            header = fh.read(_MAGIC_END)
    except OSError:
        return False
    return header[_MAGIC_END - len(_DUCKDB_MAGIC) :] == _DUCKDB_MAGIC


_FRAME_TABLES = frozenset({"charge_balances", "payers"})


@contextlib.contextmanager
def _file_lock(lock_path: str, timeout: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)  # less the umask: see connect
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    msg = (
                        f"the ledger store {lock_path.removesuffix('.lock')} is busy: another "
                        f"writeoff process has held it for over {timeout:.0f} s; try again later"
                    )
                    raise LedgerError(msg) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
