"""``systemic demand capture``: the demand captured in the workspace, for the study.

``export`` writes what staff captured on the capture page (``/capture``) as
the two files ``systemic demand estimate`` reads: the contacts (what each
person said, masked when it was stored) and the labels (the classes the team
gave while capturing).
"""

from __future__ import annotations

from pathlib import Path

import typer

from systemic.commands._console import console, fail
from systemic.commands._store_options import DB_OPTION, WORKSPACE_OPTION

capture_app = typer.Typer(
    help="Demand captured at the point of contact, in the workspace.", no_args_is_help=True
)


@capture_app.command("export")
def export(
    out: Path = typer.Option(
        ..., "--out", "-o", help="Folder to write contacts.csv and labels.csv into."
    ),
    db: str = DB_OPTION,
    workspace: str = WORKSPACE_OPTION,
) -> None:
    """Write the captured demand as contacts.csv and labels.csv for `systemic demand estimate`.

    contacts.csv: id, text, received, channel, service, locality, what_matters.
    labels.csv: id, demand_class, demand_type, what_failed, for every demand the
    team classified as value or failure while capturing.
    """
    from systemic.store import StoreError, open_store
    from systemic.store.demand_capture import captured_demand_tables
    from systemic.store.repository import pick_workspace

    try:
        store = open_store(db)
    except StoreError as exc:
        fail(str(exc))
        raise
    try:
        with store.session() as session:
            ws = pick_workspace(session, workspace)
            contacts, labels = captured_demand_tables(session, ws.id)
    except StoreError as exc:
        fail(str(exc))
        raise
    finally:
        store.dispose()
    if contacts.height == 0:
        fail(
            f"workspace {ws.slug!r} holds no captured demand yet; capture some on its "
            "/capture page (or import a labelled CSV straight into `systemic demand estimate`)"
        )
    from systemic.data.export import neutralise_formulas

    out.mkdir(parents=True, exist_ok=True)
    # People open these in a spreadsheet: a ' before text it would run as a formula.
    neutralise_formulas(contacts).write_csv(out / "contacts.csv")
    neutralise_formulas(labels).write_csv(out / "labels.csv")
    console.print(
        f"Wrote {contacts.height:,} captured contacts to {out / 'contacts.csv'} and "
        f"{labels.height:,} labels (classified while capturing) to {out / 'labels.csv'}.\n"
        f"Next: systemic demand estimate {out / 'contacts.csv'} --labels {out / 'labels.csv'} "
        f"--out {out / 'study'}",
        highlight=False,
    )
