"""A round's progress as a spreadsheet: ``progress.csv`` and ``progress.xlsx``.

Both hold the same table (:func:`audit_core.services.progress.export_table`), in which
every cell is text and any that starts like a formula has a leading apostrophe, so a
spreadsheet never runs what an auditor typed. The CSV is written with the ``csv``
module (UTF-8 with a byte-order mark, so that Excel reads its accents); the workbook by
the composition root (:func:`audit_core.bootstrap.progress_workbook`), every cell a
string. The export names immediate concerns, so each one is kept in the audit trail
(``progress_exported``), like a read of a return.
"""

from __future__ import annotations

import csv
import io

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from audit_core.bootstrap import progress_workbook
from audit_core.domain.errors import AuditRoundError
from audit_core.portal.auth import SignedIn, signed_in
from audit_core.portal.web import application, not_found
from audit_core.services.progress import export_table, round_progress

router = APIRouter()

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _table(
    request: Request, user: SignedIn, round_id: str, kind: str
) -> tuple[str, list[list[str]]]:
    """The round's id and its progress table; the export is recorded."""
    with application(request).unit_of_work(actor=user.actor) as uow:
        progress = round_progress(uow, round_id)
        uow.record(
            "progress_exported",
            "audit_round",
            progress.round_id,
            round_id=progress.round_id,
            details={"format": kind, "rows": progress.total},
        )
        return progress.round_id, export_table(progress)


def _download(body: bytes, media_type: str, filename: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(body, media_type=media_type, headers=headers)


@router.get("/dashboard/rounds/{round_id}/progress.csv")
def progress_csv(request: Request, round_id: str, user: SignedIn = Depends(signed_in)) -> Response:
    try:
        canonical, rows = _table(request, user, round_id, "csv")
    except AuditRoundError:
        return not_found(request)
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    body = ("\ufeff" + out.getvalue()).encode("utf-8")
    return _download(body, "text/csv; charset=utf-8", f"progress-{canonical}.csv")


@router.get("/dashboard/rounds/{round_id}/progress.xlsx")
def progress_xlsx(request: Request, round_id: str, user: SignedIn = Depends(signed_in)) -> Response:
    try:
        canonical, rows = _table(request, user, round_id, "xlsx")
    except AuditRoundError:
        return not_found(request)
    body = progress_workbook(f"Progress {canonical}", rows)
    return _download(body, XLSX, f"progress-{canonical}.xlsx")
