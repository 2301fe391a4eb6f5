//! `attest seed training --people N --documents M`: a training matrix for
//! trials and measurement, made through the services: M documents seeded
//! as `attest seed documents` makes them (v3 in force), N people in a mix
//! of roles, each document in one or more roles' curricula (and naming a
//! few people), which assigns the version in force to everyone in scope;
//! the first `signers` people read and sign for about 70 % of theirs.

use anyhow::bail;
use diesel::prelude::*;

use super::Dice;
use super::walk::{self, Signer};
use crate::db::DbConnection;
use crate::domain::training::{AssignmentState, TrainingInput, TrainingWorkflow};
use crate::domain::user::{Role, Roles};
use crate::service::Ctx;
use crate::service::training::{self as service, Curriculum};

/// What was seeded.
pub struct Seeded {
    pub people: u64,
    pub assignments: i64,
    pub signed: u64,
}

/// The roles of seeded person `i`: mostly engineers, then quality,
/// auditors and administrators.
fn roles_of(i: u64) -> Roles {
    match i % 10 {
        0..=5 => Roles::new([Role::Engineer]),
        6 | 7 => Roles::new([Role::Quality]),
        8 => Roles::new([Role::Auditor]),
        _ => Roles::new([Role::Admin, Role::Engineer]),
    }
}

/// Seeds the matrix; refuses a database that already holds training.
pub fn training(
    conn: &mut DbConnection,
    ctx: &Ctx,
    author: i64,
    (people, documents, signers): (u64, u64, u64),
) -> anyhow::Result<Seeded> {
    use crate::db::schema::training_assignments as ta;
    let existing: i64 = ta::table.count().get_result(conn)?;
    if existing > 0 {
        bail!(
            "this database already holds {existing} training assignments; seed only a fresh trial or measurement database"
        );
    }
    super::documents::documents(conn, ctx, author, documents)?;
    let hash = crate::service::password::hash_blocking(&crate::service::random_token()?)?;
    let mut signing: Vec<Signer> = Vec::new();
    let mut ids = Vec::new();
    for i in 0..people {
        let username = format!("trainee-{i}");
        let name = format!("Trainee {i:03}");
        if i < signers {
            let s = Signer::seeded_as(conn, ctx, (&username, &name), roles_of(i))?;
            ids.push(s.account.id.0);
            signing.push(s);
        } else {
            let valid = crate::service::accounts::validate_new_user(
                &crate::service::accounts::NewUserInput {
                    username: username.clone(),
                    full_name: name,
                    email: format!("{username}@example.com"),
                    roles: roles_of(i),
                },
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            let a = crate::service::people::create_user(conn, ctx, &valid, &hash, false)?;
            ids.push(a.id.0);
        }
    }
    let docs: Vec<i64> = {
        use crate::db::schema::documents as d;
        d::table.select(d::id).order(d::id.asc()).load(conn)?
    };
    for (n, doc) in docs.iter().enumerate() {
        let n = n as u64;
        let mut roles = Vec::new();
        if !n.is_multiple_of(3) {
            roles.push(Role::Engineer);
        }
        if n.is_multiple_of(2) {
            roles.push(Role::Quality);
        }
        if n.is_multiple_of(10) {
            roles.push(Role::Admin);
        }
        if n.is_multiple_of(15) {
            roles.push(Role::Auditor);
        }
        let named = ids
            .get(usize::try_from((n * 7) % people.max(1)).unwrap_or(0))
            .copied();
        service::set_curriculum(
            conn,
            ctx,
            *doc,
            &Curriculum {
                roles: Roles::new(roles),
                people: named.into_iter().collect(),
                due_days: None,
            },
        )?;
    }
    let mut dice = Dice(0x5eed_7a11_u64);
    let mut signed = 0;
    for s in &mut signing {
        let me = s.account.id.0;
        let mine = crate::db::repo::training::standings_of(conn, &[me], None)?;
        for a in mine
            .into_iter()
            .filter(|a| a.state == AssignmentState::Assigned)
        {
            if dice.roll(10) >= 7 {
                continue;
            }
            service::opened(conn, ctx, a.id, me)?;
            let who = s.account.clone();
            walk::take::<TrainingWorkflow>(
                conn,
                ctx,
                &who,
                a.id,
                "acknowledge",
                &TrainingInput::default(),
                Some(s),
            )?;
            signed += 1;
        }
    }
    let assignments: i64 = ta::table.count().get_result(conn)?;
    crate::db::write_tx(conn, |conn| {
        crate::audit::append(
            conn,
            &ctx.entry("system.seeded").after(serde_json::json!({
                "people": people,
                "documents": documents,
                "training_assignments": assignments,
                "signed": signed,
            })),
        )
    })?;
    Ok(Seeded {
        people,
        assignments,
        signed,
    })
}
