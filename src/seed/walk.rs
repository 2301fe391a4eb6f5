//! Reaching any CAPA state through the services, as people would: the
//! fixtures of `attest seed capas` and of the tests. Every step is a real
//! transition (guards, audit entry, events, stays), every signed step a real
//! signature by a quality signer whose key is opened once and reused.

use chrono::{DateTime, Duration, Utc};

use crate::db::DbConnection;
use crate::domain::capa::{
    Capa, CapaFields, CapaInput, CapaState, CapaWorkflow, Effectiveness, Investigation, Item,
    ItemKind, RcaMethod, Why,
};
use crate::domain::ids::UserId;
use crate::domain::user::{Account, Role, Roles};
use crate::domain::workflow::Who;
use crate::service::Ctx;
use crate::service::accounts::{self, NewUserInput};
use crate::service::capas::{self, Plan};
use crate::service::keys;
use crate::service::signing::{Shown, SignWith};
use crate::service::workflow::{RecordError, Stored, preview, transition};

/// Why a walk stopped.
#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    #[error("{0}")]
    Step(#[from] RecordError),
    #[error("{0}")]
    Setup(String),
}

/// A signer whose key was opened once: it signs every signed step of a walk.
pub struct Signer {
    pub account: Account,
    with: SignWith,
}

impl Signer {
    /// Opens `account`'s key with `password` (one argon2id run).
    pub fn open(
        conn: &mut DbConnection,
        account: Account,
        password: &str,
    ) -> Result<Self, WalkError> {
        let key = crate::db::repo::signatures::active_key(conn, account.id)
            .map_err(|e| WalkError::Setup(e.to_string()))?
            .ok_or_else(|| WalkError::Setup(format!("{} has no signing key", account.username)))?;
        let (Some(wrapped), Some(salt)) = (key.wrapped_key.as_ref(), key.kdf_salt.as_ref()) else {
            return Err(WalkError::Setup(format!(
                "{}'s key is retired",
                account.username
            )));
        };
        let opened = crate::signature::unwrap(account.id.0, &key.key_id, wrapped, salt, password)
            .map_err(|e| WalkError::Setup(e.to_string()))?;
        Ok(Self {
            with: SignWith {
                user: account.id,
                key: opened,
                key_id: key.key_id,
                session: String::new(),
                shown: Shown::default(),
            },
            account,
        })
    }

    /// A new quality user `username` with a signing key under a password
    /// nobody keeps, opened once: a seeded database's signer.
    pub fn seeded(conn: &mut DbConnection, ctx: &Ctx, username: &str) -> Result<Self, WalkError> {
        Self::seeded_as(
            conn,
            ctx,
            (username, "Seeded quality signer"),
            Roles::new([Role::Quality]),
        )
    }

    /// A new user `username` (`full_name`, `roles`) with a signing key
    /// under a password nobody keeps, opened once.
    pub fn seeded_as(
        conn: &mut DbConnection,
        ctx: &Ctx,
        (username, full_name): (&str, &str),
        roles: Roles,
    ) -> Result<Self, WalkError> {
        let setup = |e: &dyn std::fmt::Display| WalkError::Setup(e.to_string());
        let password = crate::service::random_token().map_err(|e| setup(&e))?;
        let hash = crate::service::password::hash_blocking(&password).map_err(|e| setup(&e))?;
        let valid = accounts::validate_new_user(&NewUserInput {
            username: username.into(),
            full_name: full_name.into(),
            email: format!("{username}@example.com"),
            roles,
        })
        .map_err(|e| setup(&e))?;
        let account = crate::service::people::create_user(conn, ctx, &valid, &hash, false)
            .map_err(|e| setup(&e))?;
        let key = crate::signature::generate(account.id.0, &password).map_err(|e| setup(&e))?;
        crate::db::write_tx(conn, |conn| {
            keys::issue(conn, ctx, &account, &key, "seeded signer")
        })
        .map_err(|e| setup(&e))?;
        Self::open(conn, account, &password)
    }
}

/// Takes step `name` of CAPA `id` as `who` at `ctx.now`, signed by `signer`
/// when the step signs (what is signed is what the preview shows).
pub fn step(
    conn: &mut DbConnection,
    ctx: &Ctx,
    who: &Account,
    id: i64,
    name: &str,
    input: &CapaInput,
    signer: Option<&mut Signer>,
) -> Result<Capa, WalkError> {
    take::<CapaWorkflow>(conn, ctx, who, id, name, input, signer)
}

/// Takes step `name` of record `id` of any stored workflow as `who` at
/// `ctx.now`, signed by `signer` when the step signs (what is signed is
/// what the preview shows): the generic [`step`].
pub fn take<W: Stored>(
    conn: &mut DbConnection,
    ctx: &Ctx,
    who: &Account,
    id: i64,
    name: &str,
    input: &W::Input,
    signer: Option<&mut Signer>,
) -> Result<W::Record, WalkError> {
    let record = W::load(conn, id)
        .map_err(RecordError::from)?
        .ok_or(RecordError::NotFound)?;
    let version = W::version(&record);
    let (user, roles) = match &signer {
        Some(s) => (s.account.id.0, s.account.roles.clone()),
        None => (who.id.0, who.roles.clone()),
    };
    let me = Who {
        user: Some(user),
        roles: &roles,
    };
    let with = match signer {
        Some(s) => {
            let (_, to_sign) = preview::<W>(conn, me, id, version, name, input, None, ctx.now)?;
            match to_sign {
                Some(to_sign) => {
                    s.with.shown = to_sign.shown;
                    Some(&s.with)
                }
                None => None,
            }
        }
        None => None,
    };
    Ok(transition::<W>(
        conn, ctx, me, id, version, name, input, with,
    )?)
}

/// The times of a walk: each call is later than the last.
pub struct Times {
    at: DateTime<Utc>,
    now: DateTime<Utc>,
    step: Box<dyn FnMut() -> Duration>,
}

impl Times {
    /// From `start` on, each next time `step()` later, never after `now`.
    pub fn new(
        start: DateTime<Utc>,
        now: DateTime<Utc>,
        step: Box<dyn FnMut() -> Duration>,
    ) -> Self {
        Self {
            at: start,
            now,
            step,
        }
    }

    fn next(&mut self) -> DateTime<Utc> {
        self.at = (self.at + (self.step)()).min(self.now);
        self.at
    }
}

fn at(ctx: &Ctx, when: DateTime<Utc>) -> Ctx {
    Ctx {
        now: when,
        ..ctx.clone()
    }
}

const NO_INPUT: CapaInput = CapaInput {
    effectiveness_result: None,
    effectiveness_evidence: None,
    justification: None,
};

/// Opens a CAPA with `fields` (owned by `owner`) at the walk's first time
/// and takes it through the workflow to `target`: investigation, an
/// investigation with its root cause and two action items, the items done
/// with evidence and the verification plan, closed as effective (signed),
/// or cancelled from open (signed).
pub fn capa_to(
    conn: &mut DbConnection,
    ctx: &Ctx,
    owner: &Account,
    signer: &mut Signer,
    fields: CapaFields,
    target: CapaState,
    times: &mut Times,
) -> Result<Capa, WalkError> {
    let first = at(ctx, times.at);
    let owner_ctx = |when| {
        at(
            &Ctx {
                actor: accounts::actor(owner),
                ..ctx.clone()
            },
            when,
        )
    };
    let signer_ctx = |s: &Signer, when| {
        at(
            &Ctx {
                actor: accounts::actor(&s.account),
                ..ctx.clone()
            },
            when,
        )
    };
    let mut c = capas::open(
        conn,
        &Ctx {
            actor: accounts::actor(owner),
            ..first
        },
        owner.id.0,
        fields,
    )?;
    if target == CapaState::Open {
        return Ok(c);
    }
    if target == CapaState::Cancelled {
        let input = CapaInput {
            justification: Some("Seeded: raised in error".into()),
            ..NO_INPUT
        };
        let when = times.next();
        return step(
            conn,
            &signer_ctx(signer, when),
            owner,
            c.id,
            "cancel",
            &input,
            Some(signer),
        );
    }
    c = step(
        conn,
        &owner_ctx(times.next()),
        owner,
        c.id,
        "start_investigation",
        &NO_INPUT,
        None,
    )?;
    if target == CapaState::Investigation {
        return Ok(c);
    }
    let inv = Investigation {
        rca_method: Some(RcaMethod::FiveWhys),
        whys: vec![Why {
            question: "Why did it happen?".into(),
            answer: "The fixture wore out".into(),
        }],
        causes: Vec::new(),
        root_cause: "Fixture wear not inspected".into(),
        action_required: Some(true),
        action_rationale: "Recurs without a change".into(),
    };
    c = capas::update_investigation(conn, &owner_ctx(times.next()), c.id, c.version, inv)?;
    for k in 1..=2 {
        let item = Item {
            id: 0,
            text: format!("Action {k} of CAPA-{}", c.id),
            kind: ItemKind::Corrective,
            owner_id: owner.id.0,
            due_on: (times.at + Duration::days(30)).date_naive(),
            done_on: None,
            evidence: String::new(),
        };
        c = capas::add_item(conn, &owner_ctx(times.next()), c.id, c.version, item)?;
    }
    c = step(
        conn,
        &owner_ctx(times.next()),
        owner,
        c.id,
        "plan_actions",
        &NO_INPUT,
        None,
    )?;
    if target == CapaState::Action {
        return Ok(c);
    }
    for item in c.items.clone() {
        let when = times.next();
        c = capas::complete_item(
            conn,
            &owner_ctx(when),
            c.id,
            c.version,
            item.id,
            when.date_naive(),
            "Done; record attached".into(),
        )?;
    }
    let plan = Plan {
        no_adverse_effect: "No adverse effect on other processes".into(),
        effectiveness_criteria: "No recurrence in 3 months".into(),
        effectiveness_due: Some((times.at + Duration::days(90)).date_naive()),
    };
    c = capas::update_plan(conn, &owner_ctx(times.next()), c.id, c.version, plan)?;
    c = step(
        conn,
        &owner_ctx(times.next()),
        owner,
        c.id,
        "submit_verification",
        &NO_INPUT,
        None,
    )?;
    if target == CapaState::Verification {
        return Ok(c);
    }
    let input = CapaInput {
        effectiveness_result: Some(Effectiveness::Effective),
        effectiveness_evidence: Some("No recurrence in 3 months".into()),
        ..NO_INPUT
    };
    let when = times.next();
    step(
        conn,
        &signer_ctx(signer, when),
        owner,
        c.id,
        "close_effective",
        &input,
        Some(signer),
    )
}

/// The account `id`, for a walk.
pub fn account(conn: &mut DbConnection, id: UserId) -> Result<Account, WalkError> {
    crate::db::repo::users::find(conn, id)
        .map_err(|e| WalkError::Setup(e.to_string()))?
        .ok_or_else(|| WalkError::Setup(format!("there is no user {id}")))
}
