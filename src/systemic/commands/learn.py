"""``systemic learn``: journeys, flow, demand and the cost of failure from a dataset."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from systemic.commands._console import console, err_console, fail, progress


def learn_command(
    dataset: Path = typer.Argument(..., help="Dataset folder (from `systemic import`)."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for tables, charts and summary."),
    episode_gap_days: float = typer.Option(
        90, help="A gap longer than this (days) between events starts a new episode."
    ),
    repeat_window_days: float = typer.Option(
        30, help="A contact of the same demand type within this many days is a repeat."
    ),
    recontact_window_days: float = typer.Option(
        30, help="A contact within this many days after a closure is a re-contact."
    ),
    repeat_contact: bool = typer.Option(
        True, help="Infer failure demand for repeat contacts (same type within the window)."
    ),
    recontact_after_closure: bool = typer.Option(
        True, help="Infer failure demand for contacts within the window after a closure."
    ),
    contact_after_hand_off: bool = typer.Option(
        False, help="Infer failure demand for a first contact in a new service after a hand-off."
    ),
    infer_value_demand: bool = typer.Option(
        False, help="Count a need's first contact that no rule flags as value demand (inferred)."
    ),
    planned_pattern: str | None = typer.Option(
        None,
        help="Regular expression on the activity naming planned work (booked appointments, "
        "follow-ups), never inferred failure demand. Default: follow-up/appointment words.",
    ),
    unit_costs: Path | None = typer.Option(
        None, "--unit-costs", help="Unit-cost TOML table (see examples/unit_costs/)."
    ),
    threshold: int = typer.Option(
        5, help="Suppress counts below this in published tables (1-4 show as <5)."
    ),
    partitions: int | None = typer.Option(
        None, help="Split people into this many partitions (default: one per 1.5M events)."
    ),
    dask: str | None = typer.Option(
        None, "--dask", help="Run partitions on Dask: a scheduler address, or 'local'."
    ),
    charts: bool = typer.Option(True, "--charts/--no-charts", help="Draw SVG and PNG charts."),
    workspace: str | None = typer.Option(
        None,
        "--workspace",
        "-w",
        help="Also bring the published series into this workspace (slug or id), "
        "as a new version of --name.",
    ),
    name: str | None = typer.Option(
        None, "--name", help="Name of the learn result in the workspace (default: the --out name)."
    ),
    db: str | None = typer.Option(
        None, "--db", envvar="SYSTEMIC_DB", help="Workspace database (with --workspace)."
    ),
) -> None:
    """Learn journeys across silos, flow maps, variants, value and failure demand and costs."""
    if charts:  # start the chart renderer now: its start-up overlaps learning
        from systemic.learn.charts import warm_up_renderer

        warm_up_renderer()
    from systemic.data import SystemicDataError
    from systemic.learn import LearnConfig, UnitCostError, learn, load_unit_costs, write_outputs

    try:
        config = LearnConfig(
            episode_gap_days=episode_gap_days,
            repeat_window_days=repeat_window_days,
            recontact_window_days=recontact_window_days,
            repeat_contact=repeat_contact,
            recontact_after_closure=recontact_after_closure,
            contact_after_hand_off=contact_after_hand_off,
            infer_value_demand=infer_value_demand,
            **({"planned_pattern": planned_pattern} if planned_pattern is not None else {}),
            suppression_threshold=threshold,
        )
        table = load_unit_costs(unit_costs) if unit_costs else None
    except (ValueError, UnitCostError) as exc:
        fail(str(exc))
        return
    cluster = client = None
    try:
        if dask:
            from dask.distributed import Client, LocalCluster

            if dask == "local":
                cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True)
                client = Client(cluster)
            else:
                client = Client(dask)
            err_console.print(f"Learning on Dask: {client.dashboard_link}")
        with progress() as bar:
            task = bar.add_task(
                "Learning journeys, flow, demand and costs (partitions)", total=None
            )

            def learnt(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            result = learn(
                dataset, config, table, partitions=partitions, client=client, on_partition=learnt
            )
        writing = "tables, summary and charts" if charts else "tables and summary"
        with err_console.status(f"Writing {writing}..."):
            summary = write_outputs(result, out, threshold=threshold, charts=charts)
    except SystemicDataError as exc:
        fail(str(exc))
        return
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    console.print_json(json.dumps(summary, default=str))
    wrote = "tables, charts and summary.json" if charts else "tables and summary.json (no charts)"
    err_console.print(f"Wrote {wrote} to {out}")
    if workspace is not None:
        _into_workspace(out, workspace, name or out.resolve().name, db)


def _into_workspace(out: Path, workspace: str, name: str, db: str | None) -> None:
    """Bring what was just written into a workspace (published series only)."""
    from systemic.commands._store_options import act_as_cli_user
    from systemic.store import StoreError, open_store
    from systemic.store.learn_results import add_learn_result
    from systemic.store.repository import pick_workspace

    act_as_cli_user()
    try:
        store = open_store(db)
    except StoreError as exc:
        fail(str(exc))
        return
    try:
        with store.session() as session:
            ws = pick_workspace(session, workspace)
            info = add_learn_result(session, ws.id, name, out)
            session.commit()
    except StoreError as exc:
        fail(str(exc))
        return
    finally:
        store.dispose()
    err_console.print(
        f"Brought learn result {info.name!r} into workspace {ws.slug!r} as version {info.version}"
    )


def register(app: typer.Typer) -> None:
    """Attach ``systemic learn`` to the root command."""
    app.command("learn")(learn_command)
