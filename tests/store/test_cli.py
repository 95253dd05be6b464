"""The workspace commands: serve, audit, workspace export/import/list/create."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from systemic.cli import app
from systemic.store import open_store
from systemic.store import repository as repo

runner = CliRunner()


def test_audit_lists_findings_and_exits_by_severity(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    store = open_store(db)
    with store.session() as s:
        ws = repo.ensure_default_workspace(s)
        repo.create(s, ws.id, "redesign_decision", {"title": "Merge teams"})
        s.commit()
    store.dispose()
    result = runner.invoke(app, ["audit", "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    (finding,) = json.loads(result.output)
    assert finding["rule_id"] == "redesign-without-evidence"
    assert finding["path"].startswith("/redesign_decisions/")
    assert runner.invoke(app, ["audit", "--db", str(db), "--fail-on", "error"]).exit_code == 1
    table = runner.invoke(app, ["audit", "--db", str(db)])
    assert "Coherence audit: 1 finding(s)" in table.output and "Merge teams" in table.output
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\nid = "redesign-without-evidence"\nenabled = false\n')
    quiet = runner.invoke(app, ["audit", "--db", str(db), "--rules", str(rules), "--json"])
    assert json.loads(quiet.output) == []
    missing = runner.invoke(app, ["audit", "--db", str(db), "--workspace", "nope"])
    assert missing.exit_code == 2


def test_export_import_round_trip(tmp_path: Path) -> None:
    first, second = tmp_path / "a.db", tmp_path / "b.db"
    out, again = tmp_path / "out.json", tmp_path / "again.json"
    created = runner.invoke(app, ["workspace", "create", "Anytown", "--db", str(first)])
    assert created.exit_code == 0, created.output
    assert runner.invoke(app, ["workspace", "export", str(out), "--db", str(first)]).exit_code == 0
    result = runner.invoke(app, ["workspace", "import", str(out), "--db", str(second)])
    assert result.exit_code == 0, result.output
    runner.invoke(app, ["workspace", "export", str(again), "--db", str(second)])
    assert out.read_text() == again.read_text()
    assert json.loads(out.read_text())["workspace"]["slug"] == "anytown"
    conflict = runner.invoke(app, ["workspace", "import", str(out), "--db", str(second)])
    assert conflict.exit_code == 2 and "already exists" in conflict.output
    replaced = runner.invoke(
        app, ["workspace", "import", str(out), "--db", str(second), "--replace"]
    )
    assert replaced.exit_code == 0
    listed = runner.invoke(app, ["workspace", "list", "--db", str(second)])
    assert "anytown" in listed.output
    (tmp_path / "junk.json").write_text("{not json")
    junk = runner.invoke(
        app, ["workspace", "import", str(tmp_path / "junk.json"), "--db", str(second)]
    )
    assert junk.exit_code == 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_serve_creates_and_migrates_the_database(tmp_path: Path) -> None:
    from systemic.store import open_store
    from systemic.store.accounts import create_token, create_user, set_role
    from systemic.store.repository import ensure_default_workspace

    port = _free_port()
    systemic = str(Path(sys.executable).parent / "systemic")
    # No admin yet: serve refuses, names the command that makes one, and has migrated
    # the database it will serve.
    refused = subprocess.run(
        [systemic, "serve", "--port", str(port)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"},
    )
    assert refused.returncode != 0
    assert "systemic user add <your-username> --role admin" in refused.stdout + refused.stderr
    store = open_store(tmp_path / "systemic-workspace.db", migrate=False)
    with store.session() as session:
        workspace = ensure_default_workspace(session)
        create_user(session, "ada", "a long pass phrase for tests")
        set_role(session, "ada", workspace.id, "admin")
        token, _ = create_token(session, "ada", "test")
        session.commit()
    store.dispose()
    process = subprocess.Popen(
        [systemic, "serve", "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{port}/api/workspace",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=2,
                )
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.3)
        assert response.json()["slug"] == "default"
        assert (tmp_path / "systemic-workspace.db").exists()
        anonymous = httpx.get(f"http://127.0.0.1:{port}/api/workspace", timeout=5)
        assert anonymous.status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_unopenable_database_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "w.db"
    result = runner.invoke(app, ["audit", "--db", str(missing)])
    assert result.exit_code == 2
    assert "cannot open the workspace database" in result.output
    url = "postgresql://someone:hunter2@127.0.0.1:1/nowhere"
    result = runner.invoke(app, ["workspace", "list", "--db", url])
    assert result.exit_code == 2 and "hunter2" not in result.output


@pytest.mark.postgres
def test_serve_sizes_the_postgresql_pool_from_its_options_or_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Defaults unchanged (10 kept open, 40 more at a busy moment); --db-pool-size and
    SYSTEMIC_DB_MAX_OVERFLOW change them; a pool of none is refused before serving."""
    import uvicorn

    from systemic.store.accounts import create_user, set_role
    from systemic.store.repository import ensure_default_workspace
    from tests.store.databases import pg_schema

    served: list[tuple[int, int]] = []

    def run(self: uvicorn.Server) -> None:  # instead of listening: note the pool
        pool = self.config.app.state.store.engine.pool
        served.append((pool.size(), pool._max_overflow))
        self.config.app.state.store.dispose()

    monkeypatch.setattr(uvicorn.Server, "run", run)
    with pg_schema() as url:
        store = open_store(url)
        with store.session() as session:
            workspace = ensure_default_workspace(session)
            create_user(session, "ada", "a long pass phrase for tests")
            set_role(session, "ada", workspace.id, "admin")
            session.commit()
        store.dispose()
        plain = runner.invoke(app, ["serve", "--db", url])
        sized = runner.invoke(
            app,
            ["serve", "--db", url, "--db-pool-size", "3"],
            env={"SYSTEMIC_DB_MAX_OVERFLOW": "5"},
        )
        refused = runner.invoke(app, ["serve", "--db", url, "--db-pool-size", "0"])
    assert plain.exit_code == 0, plain.output
    assert sized.exit_code == 0, sized.output
    assert served == [(10, 40), (3, 5)]
    assert refused.exit_code == 2 and "--db-pool-size" in refused.output


def test_the_pool_size_is_postgresqls_default_and_given_where_asked(tmp_path: Path) -> None:
    from sqlalchemy.pool import StaticPool

    from systemic.store.db import make_engine

    engine = make_engine("postgresql://u:p@127.0.0.1/x", pool_size=2, max_overflow=1)
    assert (engine.pool.size(), engine.pool._max_overflow) == (2, 1)
    default = make_engine("postgresql://u:p@127.0.0.1/x")
    assert (default.pool.size(), default.pool._max_overflow) == (10, 40)
    # A SQLite file keeps SQLAlchemy's pool (5 + 10) unless sizes are given (the soak
    # test's twenty writers); in-memory SQLite is one shared connection.
    file = tmp_path / "w.db"
    assert (make_engine(file).pool.size(), make_engine(file).pool._max_overflow) == (5, 10)
    assert make_engine(file, pool_size=22).pool.size() == 22
    assert isinstance(make_engine("sqlite://", pool_size=2).pool, StaticPool)
    with pytest.raises(ValueError, match=r"pool_size must be 1 or more .*SYSTEMIC_DB_POOL_SIZE"):
        make_engine("postgresql://u:p@127.0.0.1/x", pool_size=0)
    with pytest.raises(ValueError, match="max_overflow must be 0 or more"):
        make_engine(file, max_overflow=-1)
