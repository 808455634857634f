#!/usr/bin/env python3
"""Count false matches between members of one household (twins, siblings, a
parent and child, partners) in a linker's pairs, using the generator's truth.

A false match is a predicted pair (match probability >= threshold) whose two
records belong to different persons. It is a *household* false match when the
two persons share a household_id. Each is classed by the persons' usual
recorded date of birth (the most common one over their records):
  twins             same usual date of birth
  parent and child  usual years of birth 15 or more apart
  other household   siblings, partners, ... (everything else)

Inputs
  truth  : the generated CSV (record_id, ..., dob, person_id, household_id)
  pairs  : kindred's pairs.csv (left_id,right_id,match_probability,...) or
           Splink's predictions saved by run_synthetic.py --save-preds
           (parquet: record_id_l, record_id_r, match_probability)

Usage: python household_false_matches.py TRUTH.csv PAIRS.{csv,parquet} [--threshold 0.9] [--out result.json]
Needs duckdb (the benchmark's virtual environment has it).
"""
from __future__ import annotations

import argparse
import json

import duckdb


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("truth")
    ap.add_argument("pairs")
    ap.add_argument("--threshold", type=float, default=0.9)
    ap.add_argument("--out")
    a = ap.parse_args()

    con = duckdb.connect()
    con.execute(f"""create table truth as select record_id::varchar as id, person_id, household_id, dob
                    from read_csv('{a.truth}', all_varchar=true, header=true)""")
    con.execute("""create table usual as
        select person_id, arg_max(dob, n) as dob from (
            select person_id, dob, count(*) as n from truth
            where dob is not null and dob <> '' and dob <> '1900-01-01' group by 1, 2) group by 1""")
    if a.pairs.endswith(".parquet"):
        src = (f"select record_id_l::varchar as l, record_id_r::varchar as r, match_probability "
               f"from read_parquet('{a.pairs}')")
    else:
        src = (f"select left_id::varchar as l, right_id::varchar as r, match_probability::double as match_probability "
               f"from read_csv('{a.pairs}', all_varchar=true, header=true)")
    con.execute(f"""create table pairs as select least(l, r) as l, greatest(l, r) as r,
                    max(match_probability) as p from ({src}) where l <> r group by 1, 2""")
    row = con.execute(f"""
        with fp as (
            select tl.person_id as pl, tr.person_id as pr, tl.household_id = tr.household_id as same_hh
            from pairs join truth tl on tl.id = pairs.l join truth tr on tr.id = pairs.r
            where p >= {a.threshold} and tl.person_id <> tr.person_id),
        classed as (
            select same_hh,
                   case when not same_hh then 'other'
                        when ul.dob = ur.dob then 'twins'
                        when abs(try_cast(substr(ul.dob, 1, 4) as int) - try_cast(substr(ur.dob, 1, 4) as int)) >= 15
                             then 'parent and child'
                        else 'other household' end as kind
            from fp left join usual ul on ul.person_id = fp.pl left join usual ur on ur.person_id = fp.pr)
        select (select count(*) from pairs where p >= {a.threshold}),
               count(*),
               count(*) filter (where same_hh),
               count(*) filter (where kind = 'twins'),
               count(*) filter (where kind = 'parent and child'),
               count(*) filter (where kind = 'other household')
        from classed""").fetchone()
    predicted, fp, hh, twins, parent, other = (int(x) for x in row)
    result = {"threshold": a.threshold, "predicted_pairs": predicted, "false_matches": fp,
              "household_false_matches": hh, "twins": twins, "parent_and_child": parent,
              "other_household": other,
              "household_share_of_false_matches": round(hh / fp, 4) if fp else 0.0}
    text = json.dumps(result, indent=2)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
