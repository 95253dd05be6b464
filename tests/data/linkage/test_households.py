"""Household members (same surname and address, another person) are not linked as one.

Compared field by field, the parts of an address agree together and count as
independent evidence; with the surname they outweighed a different forename
and date of birth. FEBRL 4's files with a household member added beside 20% of
file B's people: another forename, date of birth and social security number taken from other
records,
everything else the same. Truth: each member is a person of their own.
"""

from __future__ import annotations

import random

import polars as pl

from systemic.data.linkage import link_files

from .conftest import FEBRL_SETTINGS, linked_pairs, precision_recall, write_febrl4

ADDRESS = '["street_number", "address", "suburb", "postcode", "state"]'


def _with_households(folder):
    pa, pb, true = write_febrl4(folder, n=1500)
    b = pl.read_csv(pb, infer_schema=False)
    rng = random.Random(7)
    names = [x for x in b["given_name"].to_list() if x]
    dobs = [x for x in b["date_of_birth"].to_list() if x]
    ids = [x for x in b["soc_sec_id"].to_list() if x]
    members = [
        {
            **row,
            "rec_id": row["rec_id"] + "-member",
            "given_name": rng.choice(names),
            "date_of_birth": rng.choice(dobs),
            "soc_sec_id": rng.choice(ids),
        }
        for row in b.iter_rows(named=True)
        if rng.random() < 0.2
    ]
    pl.concat([b, pl.DataFrame(members, schema=b.schema)]).write_csv(pb)
    return pa, pb, true, {f"febrl4b/{m['rec_id']}" for m in members}


def _settings(folder, address_fields: str):
    text = FEBRL_SETTINGS.read_text().replace(
        "[linkage]", f"[linkage]\naddress_fields = {address_fields}", 1
    )
    path = folder / "link.toml"
    path.write_text(text)
    return path


def test_household_members_stay_people_of_their_own(tmp_path):
    pa, pb, true, members = _with_households(tmp_path / "in")

    def run(name, address_fields):
        result = link_files([pa, pb], _settings(tmp_path, address_fields), tmp_path / name)
        found = linked_pairs(result.links)
        merged = {r for pair in found for r in pair} & members
        return precision_recall(found, true), len(merged) / len(members)

    (precision, recall), merged = run("together", ADDRESS)
    assert precision >= 0.98 and recall >= 0.98, (precision, recall)
    assert merged <= 0.03, merged

    # The same files with each part of the address compared on its own: the
    # members are put with the person whose address they share.
    (precision_apart, _), merged_apart = run("apart", "[]")
    assert merged_apart > 0.3, merged_apart
    assert precision_apart < 0.9, precision_apart
