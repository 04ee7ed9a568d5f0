"""X12 835 remittance advice: read it exactly, once, then post it onto a loaded ledger.

- :mod:`.segments`: the one reader of X12 text: separators from the ISA, segments with
  their place (segment number and byte offset), exact amounts and dates.
- :mod:`.remittance`: what an 835 says: payments (check/EFT, payer ids), claims ``CLP``,
  service lines ``SVC``, adjustments ``CAS``, remarks, provider adjustments ``PLB``.
- :mod:`.parser`: :func:`parse_835`, segments to a :class:`Remittance`, every problem with
  its place; an unreadable amount refuses its claim, it is never guessed or defaulted.
- :mod:`.posting`: :func:`import_835`, claims matched to charges and posted as ledger
  transactions onto the store's snapshot, in one transaction.
- :mod:`.matching`: a claim's charges by the chosen key (:class:`MatchKey`), each line to
  one charge (REF*6R, else code, modifiers and dates), ambiguity refused.
- :mod:`.reversals`: a reversal (CLP02 22) tied to the earlier posted payment it undoes.
- :mod:`.outcomes`: each claim's :class:`ClaimOutcome` and the unposted-claims CSV.

How each claim status posts, reversals, matching and the exit statuses:
``docs/spec/X12_835_POSTING.md``.

Why our reader and not pyx12's
------------------------------
Each file used to be read twice: by this reader and again by pyx12 4.0.0 as a cross-check.
It is now read once, by this reader; pyx12 stays in the tests as an independent reader
(``tests/test_x12_835.py`` compares its claim and line counts and its segment numbers with
ours on every sample). pyx12 cannot be the one reader, measured on the samples in
``tests/data/x12``:

- Places: pyx12 reports a segment's ordinal (``cur_line``) only, never its byte offset,
  and our problems say both (``segment 98 (byte 3834)``).
- Files it cannot open: it reads the ISA as 106 fixed characters from byte 0, so a
  byte-order mark is refused (``First line does not begin with 'ISA'``), and its loop-aware
  reader refuses a 5010 835 in a 00401 envelope (``Map not found. icvn=00401``): the
  Inteligenz sample (9 claims, all readable here) gets no claim at all.
- Silent loss: it stops reading at an empty segment (one doubled ``~`` in managed-care:
  12 of 30 segments read, no error) and drops an unterminated last segment (the truncated
  eMedNY file, which also lacks SE, GE and IEA: no finding at all), where we skip the one
  and report the other, the missing SE and the missing IEA with their places.
- Loops it cannot place are dropped: secondary-payment's two service lines (SVC01 with
  ``>`` where ISA16 says ``:``) are not found, so 0 of 2 lines; we read both and warn.
- Speed (CPU, best of 3): pyx12's plain tokenizer (``X12Reader``) is quick, 236 ms against
  our 339 ms on a generated 1.8 MB 835 (5,000 claims, 15,000 lines, 95,012 segments), but it
  knows no loops; its loop-aware reader (``X12ContextReader``), needed to tell claims and
  lines apart, took 5.8 s there against 0.72 s for all of :func:`parse_835`, and about 34 ms
  per sample (it loads the 5010 maps) against 0.1 to 0.4 ms. Reading once, ``writeoff
  import-835`` of that file went from 8.7 s to 2.3 s of CPU, the six samples from 1.56 s
  to 1.19 s (whole process, medians).

Its 5010 validation findings (a missing ``PER``, a ``Not Used`` element) were reported as
warnings before; they are no longer part of an import (pyx12's ``x12valid`` reports them).
"""

from __future__ import annotations

from writeoff_analytics.sources.x12_835.matching import MatchKey
from writeoff_analytics.sources.x12_835.outcomes import ClaimOutcome, Outcome, write_unposted_csv
from writeoff_analytics.sources.x12_835.parser import parse_835
from writeoff_analytics.sources.x12_835.posting import FileImport, Import835Report, import_835
from writeoff_analytics.sources.x12_835.remittance import (
    Adjustment,
    Claim,
    Payment,
    ProviderAdjustment,
    Remittance,
    ServiceLine,
)
from writeoff_analytics.sources.x12_835.segments import (
    ERROR,
    WARNING,
    Position,
    Separators,
    X12Problem,
)

__all__ = [
    "ERROR",
    "WARNING",
    "Adjustment",
    "Claim",
    "ClaimOutcome",
    "FileImport",
    "Import835Report",
    "MatchKey",
    "Outcome",
    "Payment",
    "Position",
    "ProviderAdjustment",
    "Remittance",
    "Separators",
    "ServiceLine",
    "X12Problem",
    "import_835",
    "parse_835",
    "write_unposted_csv",
]
