"""The standard write-off reasons: codes, the words shown to people, and what each requires.

A batch carries one reason: a standard one from :class:`Reason`, or ``CUSTOM`` with its own
text. Presets name the standard reason that goes with them (CRITERIA.md, "Presets").
"""

from __future__ import annotations

from enum import StrEnum

from writeoff_analytics.errors import BatchError


class Reason(StrEnum):
    """Standard write-off reasons (issue 4), valued as stored in receipts."""

    NO_BALANCE_BILLING = "NO_BALANCE_BILLING"
    SMALL_BALANCE = "SMALL_BALANCE"
    BAD_DEBT = "BAD_DEBT"
    DECEASED = "DECEASED"
    FINANCIAL_HARDSHIP = "FINANCIAL_HARDSHIP"
    TIMELY_FILING = "TIMELY_FILING"
    ADMINISTRATIVE = "ADMINISTRATIVE"
    COURTESY = "COURTESY"
    CUSTOM = "CUSTOM"

    @property
    def text(self) -> str:
        """The words shown to people and written in receipts."""
        return REASON_TEXTS[self]

    @property
    def needs_determination_reference(self) -> bool:
        """Whether a batch with this reason must cite a documented determination."""
        return self is Reason.FINANCIAL_HARDSHIP


REASON_TEXTS: dict[Reason, str] = {
    Reason.NO_BALANCE_BILLING: (
        "Patient not responsible: payer prohibits balance billing (Medicaid, QMB)"
    ),
    Reason.SMALL_BALANCE: "Small balance",
    Reason.BAD_DEBT: "Bad debt: uncollectible after collection effort",
    Reason.DECEASED: "Deceased patient",
    Reason.FINANCIAL_HARDSHIP: "Financial hardship (a determination reference is required)",
    Reason.TIMELY_FILING: "Insurance balance past timely filing (administrative)",
    Reason.ADMINISTRATIVE: "Administrative write-off",
    Reason.COURTESY: "Courtesy write-off",
    Reason.CUSTOM: "Custom reason",
}

#: Reasons that waive what a patient owes as a favour: a compliance risk when routine for
#: Medicare and Medicaid patients (the compliance report flags them).
WAIVER_REASONS = frozenset({Reason.COURTESY, Reason.ADMINISTRATIVE, Reason.CUSTOM})


def parse_reason(text: Reason | str) -> Reason:
    """The reason a person typed: the code in any case, with ``-`` or ``_`` between words.

    Raises
    ------
    BatchError
        If it names no standard reason (the message lists them).

    Examples
    --------
    >>> parse_reason("small-balance") is parse_reason(" SMALL_BALANCE ") is Reason.SMALL_BALANCE
    True
    """
    if isinstance(text, Reason):
        return text
    code = str(text).strip().upper().replace("-", "_").replace(" ", "_")
    try:
        return Reason(code)
    except ValueError:
        known = ", ".join(r.value for r in Reason)
        msg = f"unknown reason {text!r}; use one of {known} (CUSTOM with its own text)."
        raise BatchError(msg) from None
