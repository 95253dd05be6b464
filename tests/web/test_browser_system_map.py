"""The system map at team size, in a real browser (Debian's Chromium via Playwright).

An 80-factor, 150-link map is built through the JSON API, opened, laid out and
saved; a factor is dragged and is found where it was left after a reload; a
factor added through the form leaves every existing loop's name as it was (and
the address bar shows the map, not the form); filtering by a loop shows just that
loop's factors. Screenshots go to the tmp folder and ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from systemic.framework.map_layout import overlapping_boxes
from tests.web.test_browser_pages import (  # noqa: F401  (fixtures)
    ARTIFACTS,
    CHROMIUM,
    Shots,
    browser_page,
    server,
    sign_in,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed"),
]

N_FACTORS, N_LINKS = 80, 150
WORDS = [
    "failure demand", "repeat calls", "waiting list", "staff morale", "agency spend",
    "sickness absence", "eligibility thresholds", "people in crisis", "hand-offs",
    "trust in services", "caseload", "budget pressure", "early help", "hospital admissions",
    "delayed discharge", "carer strain", "housing repairs outstanding", "complaints",
    "time with people", "targets met", "rework", "assessment backlog", "community support",
    "people helped first time",
]  # fmt: skip
KINDS = ["system_condition", "demand", "capacity", "outcome", None]
LEVELS = ["purpose", "paradigm", "organisation", "people", None]


def build_map(base: str, token: str) -> tuple[str, list[str]]:
    """A map of 80 factors and 150 signed links, in clusters with links between them."""
    import httpx

    rng = random.Random(17)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, timeout=60, headers=headers) as api:

        def post(plural: str, payload: dict) -> str:
            response = api.post(f"/api/{plural}", json=payload)
            assert response.status_code == 201, response.text
            return response.json()["id"]

        map_id = post("system_maps", {"name": "Adult social care at team size"})
        factors = []
        for n in range(N_FACTORS):
            words = WORDS[n % len(WORDS)]
            name = f"{words[0].upper()}{words[1:]} ({n + 1})"
            if n % 7 == 3:
                name += " in the north of the borough"
            factors.append(
                post(
                    "factors",
                    {
                        "system_map_id": map_id,
                        "name": name,
                        "kind": KINDS[n % len(KINDS)],
                        "level": LEVELS[n % len(LEVELS)],
                        "tags": ["front door"] if n % 4 == 0 else [],
                    },
                )
            )
        pairs: set[tuple[int, int]] = set()
        # Eight clusters of ten, each a ring (one loop each) with chords, then bridges.
        for cluster in range(8):
            members = list(range(cluster * 10, cluster * 10 + 10))
            for i, a in enumerate(members):
                pairs.add((a, members[(i + 1) % 10]))
        while len(pairs) < N_LINKS:
            a, b = rng.randrange(N_FACTORS), rng.randrange(N_FACTORS)
            same = a // 10 == b // 10
            if a != b and (b, a) not in pairs and (same or rng.random() < 0.35):
                pairs.add((a, b))
        for a, b in sorted(pairs):
            post(
                "causal_links",
                {
                    "system_map_id": map_id,
                    "cause_id": factors[a],
                    "effect_id": factors[b],
                    "polarity": "-" if rng.random() < 0.25 else "+",
                    "delay": rng.random() < 0.1,
                },
            )
    return map_id, factors


def api_get(base: str, token: str, path: str) -> object:
    import httpx

    response = httpx.get(base + path, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def loop_names_on_page(page) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Loop name -> its chain of factor names, as the page lists them."""
    out = {}
    for item in page.locator(".loop-list li").all():
        badge = item.locator(".badge").inner_text()
        name = badge.split()[0]
        text = item.inner_text()
        chain = text.split(badge, 1)[1].split("highlight")[0].split("(with a delay)")[0]
        out[name] = chain.strip()
    return out


def boxes_overlapping_on_screen(page) -> list:  # type: ignore[no-untyped-def]
    """Pairs of factor boxes (as drawn) that overlap, measured by the browser."""
    return page.evaluate(
        """() => {
          const boxes = [...document.querySelectorAll('svg.system-map g.factor')]
            .filter(g => getComputedStyle(g).display !== 'none')
            .map(g => [g.dataset.key, g.querySelector('rect').getBoundingClientRect()]);
          const out = [];
          for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
            const a = boxes[i][1], b = boxes[j][1];
            if (a.left < b.right - 0.5 && b.left < a.right - 0.5 &&
                a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5) {
              out.push([boxes[i][0], boxes[j][0]]);
            }
          }
          return out;
        }"""
    )


def map_shot(shots: Shots, name: str) -> Path:
    """A screenshot of just the map's picture (a full page of 80 factors is unreadable)."""
    path = shots.folder / f"{len(shots.saved) + 1:02d}-{name}.png"
    shots.page.locator("figure.map-canvas").screenshot(path=str(path))  # type: ignore[attr-defined]
    shots.saved.append(path)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, ARTIFACTS / path.name)
    return path


def transform_of(page, key: str) -> str:  # type: ignore[no-untyped-def]
    return page.locator(f'g.factor[data-key="{key}"]').get_attribute("transform")


def test_a_team_size_map_can_be_laid_out_moved_extended_and_filtered(
    server: str,  # noqa: F811
    browser_page: tuple,  # noqa: F811
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    page, outside, _plain = browser_page
    token = (tmp_path / "admin-token").read_text()
    map_id, factors = build_map(server, token)
    shots = Shots(page, tmp_path / "shots")

    sign_in(page, server)
    page.goto(f"{server}/map?map={map_id}")
    # Every factor was new, so the page lays them out and saves the places at once.
    expect(page.locator("#map-status")).to_contain_text("80 new factors were placed", timeout=30000)
    shots.take("map-page")
    map_shot(shots, "map-80-factors-whole")

    saved = api_get(server, token, f"/api/factors?system_map_id={map_id}")
    saved = [f for f in saved if f["system_map_id"] == map_id]  # type: ignore[union-attr]
    assert len(saved) == N_FACTORS
    assert all(f["x"] is not None and f["y"] is not None for f in saved)
    positions = {f["id"]: (f["x"], f["y"]) for f in saved}
    assert overlapping_boxes(positions) == []  # the saved layout: no two boxes overlap
    assert boxes_overlapping_on_screen(page) == []  # and none as the browser drew them

    loops_before = loop_names_on_page(page)
    assert len(loops_before) >= 8  # at least the eight cluster rings
    api_loops = api_get(server, token, f"/api/system_maps/{map_id}/loops")
    assert {loop["name"] for loop in api_loops} == set(loops_before)  # type: ignore[union-attr]

    # Zoom in to read the labels of a corner of the map.
    for _ in range(4):
        page.get_by_role("button", name="Zoom in").click()
    map_shot(shots, "map-zoomed-in")
    page.get_by_role("button", name="Whole map").click()

    # Drag one factor to another place; the page saves it.
    key = factors[5]
    page.locator("figure.map-canvas").scroll_into_view_if_needed()
    box = page.locator(f'g.factor[data-key="{key}"] rect').first.bounding_box()
    assert box is not None
    start_x, start_y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    before = transform_of(page, key)
    page.mouse.move(start_x, start_y)
    page.mouse.down()
    page.mouse.move(start_x + 60, start_y + 40, steps=8)
    page.mouse.move(start_x + 120, start_y + 90, steps=8)
    page.mouse.up()
    expect(page.locator("#map-status")).to_contain_text("Moved", timeout=10000)
    after = transform_of(page, key)
    assert after != before
    map_shot(shots, "map-after-drag")

    page.reload()
    expect(page.locator(f'g.factor[data-key="{key}"]')).to_have_attribute("transform", after)
    record = api_get(server, token, f"/api/factors/{key}")
    assert f"translate({record['x']:.1f},{record['y']:.1f})" == after  # type: ignore[index]

    # Move a factor with the keyboard alone.
    other = factors[12]
    was = transform_of(page, other)
    page.locator(f'g.factor[data-key="{other}"]').focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowDown")
    expect(page.locator("#map-status")).to_contain_text("Moved", timeout=10000)
    x0, y0 = map(float, was.removeprefix("translate(").removesuffix(")").split(","))
    assert transform_of(page, other) == f"translate({x0 + 10:.1f},{y0 + 50:.1f})"

    # Add a factor through the form, as a person would, then link it into a new loop.
    page.get_by_role("link", name="Add a factor").click()
    expect(page.get_by_role("heading", name="Add factor")).to_be_visible()
    page.get_by_label("Name").fill("Time spent chasing progress")
    page.get_by_label("Kind").select_option("demand")
    page.get_by_role("button", name="Save factor").click()
    expect(page.get_by_role("heading", name="System map", exact=True)).to_be_visible()
    shots.take("map-page-after-adding-a-factor")
    assert "/factors/new" not in page.url and f"map={map_id}" in page.url
    new_factor = next(
        f["id"]
        for f in api_get(server, token, "/api/factors")  # type: ignore[union-attr]
        if f["name"] == "Time spent chasing progress"
    )
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    for cause, effect in ((new_factor, factors[0]), (factors[0], new_factor)):
        response = httpx.post(
            f"{server}/api/causal_links",
            headers=headers,
            json={"system_map_id": map_id, "cause_id": cause, "effect_id": effect},
            timeout=30,
        )
        assert response.status_code == 201, response.text
    # The map page the form returned to placed the new factor and saved its place.
    record = api_get(server, token, f"/api/factors/{new_factor}")
    assert record["x"] is not None and record["y"] is not None  # type: ignore[index]
    page.goto(f"{server}/map?map={map_id}")
    expect(page.locator(f'g.factor[data-key="{new_factor}"]')).to_have_attribute(
        "transform",
        f"translate({record['x']:.1f},{record['y']:.1f})",  # type: ignore[index]
    )
    loops_after = loop_names_on_page(page)
    for name, chain in loops_before.items():
        assert loops_after.get(name) == chain, f"loop {name} changed: {chain!r}"
    added = set(loops_after) - set(loops_before)
    assert added, "the new loop has a new name"
    assert all("Time spent chasing progress" in loops_after[name] for name in added), (
        "only loops through the new factor are new"
    )
    assert boxes_overlapping_on_screen(page) == []
    map_shot(shots, "map-after-new-factor")

    # Filter by a loop: only its factors stay on the picture.
    (new_loop,) = [n for n in added if len(loops_after[n].split(" → ")) == 3]
    page.locator("#filter-loop").select_option(new_loop)
    visible = page.locator("svg.system-map g.factor:visible")
    expect(visible).to_have_count(2)
    expect(page.locator("#map-status")).to_contain_text("Showing 2 of 81 factors")
    map_shot(shots, "map-filtered-to-new-loop")
    first_loop = sorted(loops_before)[0]
    page.locator("#filter-loop").select_option(first_loop)
    expect(visible).to_have_count(len(loops_before[first_loop].split(" → ")) - 1)
    map_shot(shots, "map-filtered-to-first-loop")
    page.get_by_role("button", name="Show everything").click()
    expect(visible).to_have_count(N_FACTORS + 1)
    # Filter by level and by tag too.
    page.locator("#filter-level").select_option("people")
    expect(page.locator("#map-status")).to_contain_text("Showing 16 of 81 factors")
    page.get_by_role("button", name="Show everything").click()
    page.locator("#filter-tag").select_option("front door")
    expect(page.locator("#map-status")).to_contain_text("Showing 20 of 81 factors")

    # Export the picture as PNG, drawn by the browser from the same SVG.
    with page.expect_download() as download:
        page.get_by_role("button", name="PNG").click()
    png = tmp_path / "map.png"
    download.value.save_as(png)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width > 2000 and height > 1000  # the whole map, at twice its size
    shutil.copy2(png, ARTIFACTS / "map-export.png")

    assert outside == [], f"requests left the machine: {outside}"
