//! Persons: names (with previous names), dates of birth or expected delivery,
//! identifiers, language and SEND, and addresses over time.

use kindred_domain::model::{Sex, Upn};
use kindred_domain::{NhsNumber, Postcode, names};
use time::Date;

use crate::BeginWrite;
use crate::{Db, Result, on_pool, on_read};

#[derive(Clone, PartialEq, Eq)]
pub struct Person {
    pub id: i64,
    pub tenant_id: i64,
    pub given_name: String,
    pub family_name: String,
    pub preferred_name: Option<String>,
    pub date_of_birth: Option<Date>,
    pub expected_delivery: Option<Date>,
    pub sex: Sex,
    pub nhs_number: Option<NhsNumber>,
    pub upn: Option<Upn>,
    pub language: Option<String>,
    pub interpreter_needed: bool,
    pub send: bool,
}

impl std::fmt::Debug for Person {
    /// Only the id: names and identifiers must not reach logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Person").field("id", &self.id).finish_non_exhaustive()
    }
}

impl Person {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
    }
    pub fn is_unborn(&self) -> bool {
        self.date_of_birth.is_none() && self.expected_delivery.is_some()
    }
}

/// What a form or feed supplies for a person: already parsed.
#[derive(Clone)]
pub struct PersonDetails {
    pub given_name: String,
    pub family_name: String,
    pub preferred_name: Option<String>,
    pub date_of_birth: Option<Date>,
    pub expected_delivery: Option<Date>,
    pub sex: Sex,
    pub nhs_number: Option<NhsNumber>,
    pub upn: Option<Upn>,
    pub language: Option<String>,
    pub interpreter_needed: bool,
    pub send: bool,
}

impl From<&Person> for PersonDetails {
    fn from(p: &Person) -> Self {
        PersonDetails {
            given_name: p.given_name.clone(),
            family_name: p.family_name.clone(),
            preferred_name: p.preferred_name.clone(),
            date_of_birth: p.date_of_birth,
            expected_delivery: p.expected_delivery,
            sex: p.sex,
            nhs_number: p.nhs_number,
            upn: p.upn.clone(),
            language: p.language.clone(),
            interpreter_needed: p.interpreter_needed,
            send: p.send,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct PersonRow {
    pub(crate) id: i64,
    tenant_id: i64,
    given_name: String,
    family_name: String,
    preferred_name: Option<String>,
    date_of_birth: Option<Date>,
    expected_delivery: Option<Date>,
    sex: String,
    nhs_number: Option<String>,
    upn: Option<String>,
    language: Option<String>,
    interpreter_needed: bool,
    send: bool,
}

pub(crate) const PERSON_COLUMNS: &str = "p.id, p.tenant_id, p.given_name, p.family_name, p.preferred_name, p.date_of_birth, \
     p.expected_delivery, p.sex, p.nhs_number, p.upn, p.language, p.interpreter_needed, p.send";

impl From<PersonRow> for Person {
    fn from(r: PersonRow) -> Self {
        Person {
            id: r.id,
            tenant_id: r.tenant_id,
            given_name: r.given_name,
            family_name: r.family_name,
            preferred_name: r.preferred_name,
            date_of_birth: r.date_of_birth,
            expected_delivery: r.expected_delivery,
            sex: Sex::parse(&r.sex).unwrap_or(Sex::Unknown),
            nhs_number: r.nhs_number.and_then(|n| NhsNumber::parse(&n).ok()),
            upn: r.upn.and_then(|u| Upn::parse(&u).ok()),
            language: r.language,
            interpreter_needed: r.interpreter_needed,
            send: r.send,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PreviousName {
    pub given_name: String,
    pub family_name: String,
    pub until_date: Option<Date>,
}

#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Address {
    pub id: i64,
    pub person_id: i64,
    pub line1: String,
    pub line2: Option<String>,
    pub town: String,
    pub postcode: String,
    pub from_date: Date,
    pub to_date: Option<Date>,
}

impl std::fmt::Debug for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Address").field("id", &self.id).finish_non_exhaustive()
    }
}

#[derive(Clone)]
pub struct NewAddress {
    pub line1: String,
    pub line2: Option<String>,
    pub town: String,
    pub postcode: Postcode,
    pub from_date: Date,
}

/// The search keys stored beside a name, so search never normalises rows at query time.
pub(crate) fn name_keys(given: &str, family: &str) -> (String, String, String, String) {
    (
        names::normalise(given),
        names::normalise(family),
        names::phonetic(given),
        names::phonetic(family),
    )
}

/// Inserts a person from `PersonDetails` inside the open transaction `$tx`
/// and evaluates to the stored row.
macro_rules! insert_person {
    ($tx:ident, $tenant:expr, $details:expr) => {{
        let d: &crate::persons::PersonDetails = $details;
        let (gn, fnorm, gp, fp) = crate::persons::name_keys(&d.given_name, &d.family_name);
        let sql = format!(
            "INSERT INTO persons (tenant_id, given_name, family_name, preferred_name, given_norm, family_norm, given_phon, family_phon,
               date_of_birth, expected_delivery, sex, nhs_number, upn, language, interpreter_needed, send, created_at_ms, updated_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17)
             RETURNING {}",
            crate::persons::PERSON_COLUMNS.replace("p.", "")
        );
        sqlx::query_as::<_, crate::persons::PersonRow>(&sql)
            .bind($tenant)
            .bind(d.given_name.trim())
            .bind(d.family_name.trim())
            .bind(d.preferred_name.as_deref())
            .bind(gn)
            .bind(fnorm)
            .bind(gp)
            .bind(fp)
            .bind(d.date_of_birth)
            .bind(d.expected_delivery)
            .bind(d.sex.code())
            .bind(d.nhs_number.map(|n| n.as_digits()))
            .bind(d.upn.as_ref().map(|u| u.as_str().to_string()))
            .bind(d.language.as_deref())
            .bind(d.interpreter_needed)
            .bind(d.send)
            .bind(crate::now_ms())
            .fetch_one(&mut *$tx)
            .await?
    }};
}
pub(crate) use insert_person;

/// Gives a person a new address inside the open transaction `$tx`, ending
/// their current one the same day; evaluates to the new address.
macro_rules! insert_address {
    ($tx:ident, $person:expr, $address:expr) => {{
        let a: &crate::persons::NewAddress = $address;
        let person_id: i64 = $person;
        sqlx::query("UPDATE addresses SET to_date = $1 WHERE person_id = $2 AND to_date IS NULL")
            .bind(a.from_date)
            .bind(person_id)
            .execute(&mut *$tx)
            .await?;
        sqlx::query_as::<_, crate::persons::Address>(
            "INSERT INTO addresses (person_id, line1, line2, town, postcode, from_date) VALUES ($1, $2, $3, $4, $5, $6)
             RETURNING id, person_id, line1, line2, town, postcode, from_date, to_date",
        )
        .bind(person_id)
        .bind(a.line1.trim())
        .bind(a.line2.as_deref())
        .bind(a.town.trim())
        .bind(a.postcode.as_str())
        .bind(a.from_date)
        .fetch_one(&mut *$tx)
        .await?
    }};
}
pub(crate) use insert_address;

impl Db {
    pub async fn create_person(&self, tenant_id: i64, d: &PersonDetails) -> Result<Person> {
        let r = on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            let r = insert_person!(tx, tenant_id, d);
            tx.commit().await?;
            Ok::<_, sqlx::Error>(r)
        })?;
        Ok(r.into())
    }

    /// Updates a person; a changed name is kept as a previous name.
    pub async fn update_person(&self, id: i64, d: &PersonDetails, on: Date) -> Result<Person> {
        let before = self.person(id).await?;
        let (gn, fnorm, gp, fp) = name_keys(&d.given_name, &d.family_name);
        let renamed = before.given_name != d.given_name.trim() || before.family_name != d.family_name.trim();
        let sql = format!(
            "UPDATE persons SET given_name = $2, family_name = $3, preferred_name = $4, given_norm = $5, family_norm = $6,
               given_phon = $7, family_phon = $8, date_of_birth = $9, expected_delivery = $10, sex = $11, nhs_number = $12,
               upn = $13, language = $14, interpreter_needed = $15, send = $16, updated_at_ms = $17
             WHERE id = $1 RETURNING {}",
            PERSON_COLUMNS.replace("p.", "")
        );
        let r = on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            if renamed {
                sqlx::query(
                    "INSERT INTO person_previous_names (person_id, given_name, family_name, until_date) VALUES ($1, $2, $3, $4)",
                )
                .bind(id)
                .bind(&before.given_name)
                .bind(&before.family_name)
                .bind(on)
                .execute(&mut *tx)
                .await?;
            }
            let r = sqlx::query_as::<_, PersonRow>(&sql)
                .bind(id)
                .bind(d.given_name.trim())
                .bind(d.family_name.trim())
                .bind(d.preferred_name.as_deref())
                .bind(gn)
                .bind(fnorm)
                .bind(gp)
                .bind(fp)
                .bind(d.date_of_birth)
                .bind(d.expected_delivery)
                .bind(d.sex.code())
                .bind(d.nhs_number.map(|n| n.as_digits()))
                .bind(d.upn.as_ref().map(|u| u.as_str().to_string()))
                .bind(d.language.as_deref())
                .bind(d.interpreter_needed)
                .bind(d.send)
                .bind(crate::now_ms())
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(r)
        })?;
        Ok(r.into())
    }

    pub async fn person(&self, id: i64) -> Result<Person> {
        let sql = format!("SELECT {PERSON_COLUMNS} FROM persons p WHERE p.id = $1");
        let r = on_pool!(self, |p| sqlx::query_as::<_, PersonRow>(&sql)
            .bind(id)
            .fetch_one(p)
            .await)?;
        Ok(r.into())
    }

    pub async fn previous_names(&self, person_id: i64) -> Result<Vec<PreviousName>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as::<_, PreviousName>(
            "SELECT given_name, family_name, until_date FROM person_previous_names WHERE person_id = $1 ORDER BY id DESC"
        )
        .bind(person_id)
        .fetch_all(p)
        .await
        })?)
    }

    /// Adds an address from `from_date`, ending the person's current one the same day.
    pub async fn move_person(&self, person_id: i64, a: &NewAddress) -> Result<Address> {
        let r = on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            let r = insert_address!(tx, person_id, a);
            tx.commit().await?;
            Ok::<_, sqlx::Error>(r)
        })?;
        Ok(r)
    }

    /// Every address, the current one (no end date) first, then newest first.
    pub async fn addresses(&self, person_id: i64) -> Result<Vec<Address>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as::<_, Address>(
                "SELECT id, person_id, line1, line2, town, postcode, from_date, to_date FROM addresses
             WHERE person_id = $1 ORDER BY CASE WHEN to_date IS NULL THEN 0 ELSE 1 END, from_date DESC",
            )
            .bind(person_id)
            .fetch_all(p)
            .await
        })?)
    }

    /// The current address of each of `person_ids` that has one.
    pub async fn current_addresses(&self, person_ids: &[i64]) -> Result<std::collections::BTreeMap<i64, Address>> {
        if person_ids.is_empty() {
            return Ok(Default::default());
        }
        let list = person_ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        let rows = on_pool!(self, |p| sqlx::query_as::<_, Address>(&format!(
            "SELECT id, person_id, line1, line2, town, postcode, from_date, to_date FROM addresses
             WHERE person_id IN ({list}) AND to_date IS NULL"
        ))
        .fetch_all(p)
        .await)?;
        Ok(rows.into_iter().map(|a| (a.person_id, a)).collect())
    }

    /// The current address of each member, past or present, of a family.
    pub async fn current_addresses_in_family(
        &self,
        family_id: i64,
    ) -> Result<std::collections::BTreeMap<i64, Address>> {
        let rows = on_read!(self, |p| sqlx::query_as::<_, Address>(
            "SELECT id, person_id, line1, line2, town, postcode, from_date, to_date FROM addresses
             WHERE person_id IN (SELECT person_id FROM family_members WHERE family_id = $1) AND to_date IS NULL"
        )
        .bind(family_id)
        .fetch_all(p)
        .await)?;
        Ok(rows.into_iter().map(|a| (a.person_id, a)).collect())
    }
}
