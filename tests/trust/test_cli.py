"""The trust commands end to end through the CLI (CliRunner on a temporary database)."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select, text
from typer.testing import CliRunner

from systemic.cli import app
from systemic.store import open_store
from systemic.store.accounts import AuditEvent, authenticate, user_for_token
from systemic.store.repository import ensure_default_workspace

runner = CliRunner()
PASSWORD = "four words make a phrase"


def _db(tmp_path: Path) -> str:
    db = str(tmp_path / "ws.db")
    store = open_store(db)
    with store.session() as s:
        ensure_default_workspace(s)
        s.commit()
    store.dispose()
    return db


def test_users_roles_and_tokens(tmp_path: Path) -> None:
    db = _db(tmp_path)
    secret_file = tmp_path / "pw"
    secret_file.write_text(PASSWORD + "\n")
    # No default admin: the first user must be made admin explicitly.
    refused = runner.invoke(
        app, ["user", "add", "ed", "--db", db, "--password-file", str(secret_file)]
    )
    assert refused.exit_code == 2 and "no admin yet" in refused.output
    added = runner.invoke(
        app,
        ["user", "add", "ada", "--role", "admin", "--db", db, "--password-file", str(secret_file)],
    )
    assert added.exit_code == 0, added.output
    prompted = runner.invoke(
        app,
        ["user", "add", "ed", "--role", "editor", "--db", db],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert prompted.exit_code == 0, prompted.output
    short = runner.invoke(app, ["user", "add", "x", "--db", db], input="short\nshort\n")
    assert short.exit_code == 2 and "at least 12" in short.output
    assert runner.invoke(app, ["user", "role", "ed", "viewer", "--db", db]).exit_code == 0
    listing = runner.invoke(app, ["user", "list", "--db", db])
    assert "ada" in listing.output and "default: viewer" in listing.output
    created = runner.invoke(app, ["token", "create", "ed", "--name", "import", "--db", db])
    assert created.exit_code == 0, created.output
    secret = re.search(r"syst_\S+", created.output).group(0)
    store = open_store(db)
    with store.session() as s:
        assert authenticate(s, "ed", PASSWORD, ip="cli").username == "ed"
        assert user_for_token(s, secret).username == "ed"
        token_id = s.execute(text("SELECT id FROM api_token")).scalar()
        stored = s.execute(text("SELECT token_sha256 FROM api_token")).scalar()
        assert secret not in stored
    assert runner.invoke(app, ["token", "revoke", token_id, "--db", db]).exit_code == 0
    assert runner.invoke(app, ["user", "remove", "ed", "--db", db]).exit_code == 0
    assert runner.invoke(app, ["user", "remove", "ed", "--db", db]).exit_code == 2
    with store.session() as s:
        events = [
            (e.actor.split(":")[0], e.action, e.object_kind) for e in s.scalars(select(AuditEvent))
        ]
    assert ("cli", "change_role", "workspace_membership") in events
    assert ("cli", "revoke", "api_token") in events
    assert ("cli", "delete", "user_account") in events
    assert all(PASSWORD not in str(e) for e in events)
    store.dispose()


def test_backup_restore_retention_and_person_commands(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    import polars as pl

    from systemic.data import write_dataset
    from systemic.data.pseudonymise import load_key

    db = _db(tmp_path)
    person = load_key().pseudonym("resident 42")
    events = pl.DataFrame(
        {
            "person_id": [person, "other"],
            "service": ["Housing"] * 2,
            "activity": ["call", "call"],
            "timestamp": [datetime(2026, 1, 1, tzinfo=UTC)] * 2,
        }
    )
    dataset = tmp_path / "ds"
    write_dataset(events, dataset, source_name="calls")
    out = tmp_path / "bk"
    made = runner.invoke(app, ["backup", "--db", db, "--out", str(out), "--dataset", str(dataset)])
    assert made.exit_code == 0, made.output
    target = str(tmp_path / "restored.db")
    restored = runner.invoke(
        app, ["restore", str(out), "--db", target, "--datasets-to", str(tmp_path / "rd")]
    )
    assert restored.exit_code == 0, restored.output
    again = runner.invoke(app, ["restore", str(out), "--db", target])
    assert again.exit_code == 2 and "not empty" in again.output
    assert (tmp_path / "rd" / "01-ds" / "manifest.json").exists()
    dry = runner.invoke(app, ["retention", "run", "--dry-run", "--db", db])
    assert dry.exit_code == 0 and "would purge 0 story" in " ".join(dry.output.split())

    exported = runner.invoke(
        app,
        [
            "person",
            "export",
            "resident 42",
            "--clear-id",
            "--dataset",
            str(dataset),
            "--out",
            str(tmp_path / "sar"),
        ],
    )
    assert exported.exit_code == 0, exported.output
    assert pl.read_csv(tmp_path / "sar" / "events.csv")["person_id"].to_list() == [person]
    erased = runner.invoke(app, ["person", "erase", person, "--dataset", str(dataset), "--yes"])
    assert erased.exit_code == 0 and "removed 1 event" in " ".join(erased.output.split())


def test_first_admin_can_be_added_to_a_new_database(tmp_path: Path) -> None:
    """`systemic user add` before the first `systemic serve`: the database and its
    workspace are made, so the README's two steps (add the admin, then serve) work."""
    db = tmp_path / "new.db"
    secret = tmp_path / "pw"
    secret.write_text("a long enough password\n")
    result = runner.invoke(
        app,
        [
            "user",
            "add",
            "first",
            "--role",
            "admin",
            "--db",
            str(db),
            "--password-file",
            str(secret),
        ],
    )
    assert result.exit_code == 0, result.output
    store = open_store(db)
    try:
        with store.session() as session:
            assert (
                authenticate(session, "first", "a long enough password", ip="127.0.0.1").username
                == "first"
            )
    finally:
        store.dispose()
