//! Each comparator's levels on hand-picked pairs.

use kindred_linkage::compare::{self, ADDRESS, DOB, FIRST, NHS, NULL, POSTCODE, SEX, SURNAME};
use kindred_linkage::dataset::Dataset;
use kindred_linkage::{Model, RawRecord, standardise};

fn raw(id: &str) -> RawRecord {
    RawRecord {
        id: id.into(),
        nhs_number: Some("943 476 5919".into()),
        given_name: Some("William".into()),
        middle_name: Some("James".into()),
        family_name: Some("Smith-Jones".into()),
        date_of_birth: Some("2015-03-04".into()),
        sex: Some("M".into()),
        postcode: Some("LS1 4AB".into()),
        address: Some("12 Oak Road".into()),
        source_system: Some("gp".into()),
    }
}

fn levels(a: RawRecord, b: RawRecord) -> compare::Levels {
    let ds = Dataset::from_records(&[standardise(&a), standardise(&b)]);
    let l = compare::levels(&ds, 0, 1);
    assert_eq!(l, compare::levels(&ds, 1, 0), "levels are symmetric");
    l
}

fn label(k: usize, a: RawRecord, b: RawRecord) -> &'static str {
    compare::label(k, levels(a, b)[k])
}

fn with(f: impl FnOnce(&mut RawRecord)) -> RawRecord {
    let mut r = raw("b");
    f(&mut r);
    r
}

#[test]
fn nhs_number_levels() {
    assert_eq!(label(NHS, raw("a"), raw("b")), "exact");
    assert_eq!(
        label(NHS, raw("a"), with(|r| r.nhs_number = Some("9434765991".into()))),
        "one transposition"
    );
    assert_eq!(
        label(NHS, raw("a"), with(|r| r.nhs_number = Some("9434765912".into()))),
        "one digit different"
    );
    // 401 023 2137 is valid, and so is 943 476 5919
    assert_eq!(
        label(NHS, raw("a"), with(|r| r.nhs_number = Some("4010232137".into()))),
        "both valid, different"
    );
    assert_eq!(
        label(NHS, raw("a"), with(|r| r.nhs_number = Some("4010232138".into()))),
        "different"
    );
    assert_eq!(label(NHS, raw("a"), with(|r| r.nhs_number = None)), "missing");
    // a mother's number on her baby's record
    assert_eq!(
        label(NHS, raw("a"), with(|r| r.date_of_birth = Some("1988-06-01".into()))),
        "exact, dates of birth 10+ years apart"
    );
}

#[test]
fn first_name_levels() {
    assert_eq!(
        label(FIRST, raw("a"), with(|r| r.given_name = Some("WILLIAM ".into()))),
        "exact"
    );
    assert_eq!(
        label(FIRST, raw("a"), with(|r| r.given_name = Some("Bill".into()))),
        "nickname"
    );
    assert_eq!(
        label(FIRST, raw("a"), with(|r| r.given_name = Some("Liam".into()))),
        "nickname"
    );
    assert_eq!(
        label(
            FIRST,
            raw("a"),
            with(|r| {
                r.given_name = Some("James".into());
                r.middle_name = None
            })
        ),
        "first and middle names swapped"
    );
    assert_eq!(
        label(FIRST, raw("a"), with(|r| r.given_name = Some("Wiliam".into()))),
        "Jaro-Winkler ≥ 0.92"
    );
    assert_eq!(
        label(FIRST, raw("a"), with(|r| r.given_name = Some("W".into()))),
        "initial"
    );
    assert_eq!(
        label(FIRST, raw("a"), with(|r| r.given_name = Some("Oscar".into()))),
        "different"
    );
    assert_eq!(
        label(FIRST, raw("a"), with(|r| r.given_name = Some("Baby".into()))),
        "missing"
    );
}

#[test]
fn surname_levels() {
    assert_eq!(
        label(SURNAME, raw("a"), with(|r| r.family_name = Some("smith jones".into()))),
        "exact"
    );
    assert_eq!(
        label(SURNAME, raw("a"), with(|r| r.family_name = Some("Jones".into()))),
        "double-barrelled part"
    );
    assert_eq!(
        label(SURNAME, raw("a"), with(|r| r.family_name = Some("SmithJones".into()))),
        "double-barrelled part"
    );
    assert_eq!(
        label(
            SURNAME,
            with(|r| r.family_name = Some("Robinson".into())),
            with(|r| r.family_name = Some("Robinsno".into()))
        ),
        "one edit or Jaro-Winkler ≥ 0.92"
    );
    // a short name one edit apart is far from Jaro-Winkler 0.92
    assert_eq!(
        label(
            SURNAME,
            with(|r| r.family_name = Some("Ali".into())),
            with(|r| r.family_name = Some("Ahi".into()))
        ),
        "one edit or Jaro-Winkler ≥ 0.92"
    );
    assert_eq!(
        label(
            FIRST,
            with(|r| {
                r.given_name = Some("Smith".into());
                r.family_name = Some("Oscar".into())
            }),
            with(|r| {
                r.given_name = Some("Oscar".into());
                r.family_name = Some("Smith".into())
            })
        ),
        "first name and surname swapped"
    );
    assert_eq!(
        label(SURNAME, raw("a"), with(|r| r.family_name = Some("Okafor".into()))),
        "different"
    );
}

#[test]
fn date_of_birth_levels() {
    assert_eq!(
        label(DOB, raw("a"), with(|r| r.date_of_birth = Some("04/03/2015".into()))),
        "exact"
    );
    assert_eq!(
        label(DOB, raw("a"), with(|r| r.date_of_birth = Some("2015-04-03".into()))),
        "day and month swapped"
    );
    assert_eq!(
        label(DOB, raw("a"), with(|r| r.date_of_birth = Some("2015-03-07".into()))),
        "one digit different"
    );
    assert_eq!(
        label(DOB, raw("a"), with(|r| r.date_of_birth = Some("2013-03-04".into()))),
        "one digit different"
    );
    assert_eq!(
        label(DOB, raw("a"), with(|r| r.date_of_birth = Some("2009-03-04".into()))),
        "different"
    );
    assert_eq!(
        compare::label(DOB, compare::dob_level(20191231, 20201231)),
        "year one apart"
    );
    assert_eq!(
        label(DOB, raw("a"), with(|r| r.date_of_birth = Some("1900-01-01".into()))),
        "missing"
    );
}

#[test]
fn postcode_address_and_sex_levels() {
    assert_eq!(
        label(POSTCODE, raw("a"), with(|r| r.postcode = Some("ls14ab".into()))),
        "exact"
    );
    assert_eq!(
        label(POSTCODE, raw("a"), with(|r| r.postcode = Some("LS1 4XY".into()))),
        "same sector"
    );
    assert_eq!(
        label(POSTCODE, raw("a"), with(|r| r.postcode = Some("LS1 9AB".into()))),
        "same district"
    );
    assert_eq!(
        label(POSTCODE, raw("a"), with(|r| r.postcode = Some("LS11 4AB".into()))),
        "different"
    );
    assert_eq!(
        label(ADDRESS, raw("a"), with(|r| r.address = Some("12 oak rd".into()))),
        "exact"
    );
    assert_eq!(
        label(ADDRESS, raw("a"), with(|r| r.address = Some("12 Oak Raod".into()))),
        "same numbers, Jaro-Winkler ≥ 0.90"
    );
    assert_eq!(
        label(ADDRESS, raw("a"), with(|r| r.address = Some("14 Oak Road".into()))),
        "different"
    );
    assert_eq!(
        label(SEX, raw("a"), with(|r| r.sex = Some("female".into()))),
        "different"
    );
    assert_eq!(levels(raw("a"), with(|r| r.sex = Some("unknown".into())))[SEX], NULL);
}

#[test]
fn household_context_and_explanations_add_up() {
    let model = Model::default();
    let a = standardise(&raw("a"));
    // A twin: same household, birthday, surname; a different first name and NHS number.
    let twin = standardise(&with(|r| {
        r.given_name = Some("Oscar".into());
        r.middle_name = None;
        r.nhs_number = Some("4010232137".into());
    }));
    let e = model.explain(&a, &twin);
    assert_eq!(e.contributions[0].comparison, "Household context");
    let sum: f64 = e.prior_weight + e.contributions.iter().map(|c| c.weight).sum::<f64>();
    assert!((sum - e.weight).abs() < 1e-9);
    assert!(e.probability < 0.5, "twins are not one person: {e:?}");
    // The same person, with a nickname and a transposed NHS number.
    let same = standardise(&with(|r| {
        r.given_name = Some("Bill".into());
        r.nhs_number = Some("9434765991".into());
    }));
    let e = model.explain(&a, &same);
    assert!(e.probability > 0.99, "{e:?}");
    let first = e.contributions.iter().find(|c| c.comparison == "First name").unwrap();
    assert_eq!(first.level, "nickname");
    assert_eq!(first.left.as_deref(), Some("william"));
    assert_eq!(first.right.as_deref(), Some("bill"));
    assert!(first.weight > 0.0);
    // A mother's NHS number on her baby's record, in the same household.
    let mother = standardise(&with(|r| {
        r.given_name = Some("Sarah".into());
        r.middle_name = None;
        r.date_of_birth = Some("1988-06-01".into());
        r.sex = Some("F".into());
    }));
    assert!(model.probability(&a, &mother) < 0.5, "{:?}", model.explain(&a, &mother));
    assert!((model.weight(&a, &mother) - model.weight(&mother, &a)).abs() < 1e-12);
}
