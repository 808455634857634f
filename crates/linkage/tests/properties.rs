//! Properties: standardisation is idempotent; scoring is symmetric.

use kindred_linkage::{Model, RawRecord, names, postcodes, standardise};
use proptest::prelude::*;

fn field() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        "[A-Za-zéèüöçñ' .-]{0,14}".prop_map(Some),
        prop::sample::select(vec![
            "Bob",
            "Robert",
            "Peggy",
            "Margaret",
            "O'Brien",
            "Smith-Jones",
            "baby",
            "  "
        ])
        .prop_map(|s| Some(s.to_owned())),
    ]
}

fn raw() -> impl Strategy<Value = RawRecord> {
    (
        field(),
        field(),
        field(),
        prop_oneof![
            Just(None),
            "[0-9]{10}".prop_map(Some),
            "[0-9 ]{0,13}".prop_map(Some),
            Just(Some("943 476 5919".to_owned()))
        ],
        prop_oneof![
            Just(None),
            "(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])".prop_map(Some),
            "[0-3]?[0-9]/[01]?[0-9]/[0-9]{2,4}".prop_map(Some),
            Just(Some("1900-01-01".to_owned())),
            Just(Some("3 Mar 2015".to_owned())),
        ],
        prop_oneof![
            Just(None),
            "[A-Za-z]{1,2}[0-9]{1,2} ?[0-9][A-Za-z]{2}".prop_map(Some),
            "[A-Z0-9 ]{0,9}".prop_map(Some)
        ],
        prop_oneof![
            Just(None),
            "[0-9]{1,3} [A-Za-z]{3,8} (Rd|Road|St|Ave|Lane)\\.?".prop_map(Some),
            field()
        ],
        prop::sample::select(vec![None, Some("M"), Some("f"), Some("female"), Some("unknown")]),
    )
        .prop_map(
            |(given_name, middle_name, family_name, nhs_number, date_of_birth, postcode, address, sex)| RawRecord {
                id: "x".into(),
                nhs_number,
                given_name,
                middle_name,
                family_name,
                date_of_birth,
                sex: sex.map(str::to_owned),
                postcode,
                address,
                source_system: Some("GP".into()),
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn standardisation_is_idempotent(r in raw()) {
        let once = standardise(&r);
        let twice = standardise(&once.to_raw());
        prop_assert_eq!(once, twice);
    }

    #[test]
    fn normal_forms_are_fixed_points(s in "\\PC{0,20}") {
        if let Some(n) = names::normalise(&s) {
            prop_assert_eq!(names::normalise(&n), Some(n.clone()));
        }
        if let Some(p) = postcodes::parse(&s) {
            prop_assert_eq!(postcodes::parse(&p.full), Some(p.clone()));
        }
    }

    #[test]
    fn pair_scoring_is_symmetric(a in raw(), b in raw()) {
        let (a, b) = (standardise(&a), standardise(&b));
        let m = Model::default();
        prop_assert!((m.weight(&a, &b) - m.weight(&b, &a)).abs() < 1e-9);
        prop_assert!((m.probability(&a, &b) - m.probability(&b, &a)).abs() < 1e-12);
        let (ea, eb) = (m.explain(&a, &b), m.explain(&b, &a));
        for (x, y) in ea.contributions.iter().zip(&eb.contributions) {
            prop_assert_eq!(&x.level, &y.level);
            prop_assert_eq!(&x.left, &y.right);
        }
    }
}
