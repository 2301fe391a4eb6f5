//! `attest seed risks --count N --author U`: a risk file for trials and
//! measurement, made through the services on a product of its own: the
//! starting plan approved by a seeded quality signer, 24 hazards, N/2
//! requirements of kind risk control, and N risks identified and estimated
//! (a spread over the matrix), analyzed, each with three controls, most of
//! them controlled and about a third with a residual estimate.

use anyhow::bail;

use super::Dice;
use super::walk::{self, Signer};
use crate::db::DbConnection;
use crate::domain::risk::plan::{HazardCategory, PlanWorkflow};
use crate::domain::risk::workflow::{RiskInput, RiskWorkflow};
use crate::domain::user::{Role, Roles};
use crate::service::Ctx;
use crate::service::risks::{self as service, Analysis, ControlText, EstimateText, Residual};

/// What was seeded.
pub struct Seeded {
    pub product: i64,
    pub risks: u64,
    pub controls: u64,
}

fn estimate(g: &mut Dice) -> EstimateText {
    EstimateText {
        severity: (g.roll(5) + 1).to_string(),
        probability: (g.roll(5) + 1).to_string(),
        ..EstimateText::default()
    }
}

/// Seeds the risk file of a new product `RISKB`; refuses a database that
/// has one.
pub fn risks(
    conn: &mut DbConnection,
    ctx: &Ctx,
    author: i64,
    count: u64,
) -> anyhow::Result<Seeded> {
    let who = walk::account(conn, crate::domain::ids::UserId(author))?;
    if !who.roles.has_any(service::ANALYSTS) {
        bail!("the author writes risks: give an active quality or engineering user");
    }
    let fields = crate::domain::product::ProductFields {
        name: "Risk bench device".into(),
        key_prefix: "RISKB".into(),
        safety_class: crate::domain::product::SafetyClass::C,
        description: "Seeded by attest seed risks".into(),
    };
    if crate::db::repo::products::clash(conn, &fields, None)?.is_some() {
        bail!(
            "this database has the product RISKB already; seed only a fresh trial or measurement database"
        );
    }
    let product = crate::service::products::create(conn, ctx, &fields)?.id;
    let mut qa = Signer::seeded_as(
        conn,
        ctx,
        ("risk-approver", "Risk Approver"),
        Roles::new([Role::Quality]),
    )?;
    let plan = service::start_plan(conn, ctx, product, qa.account.id.0)?;
    walk::take::<PlanWorkflow>(
        conn,
        ctx,
        &qa.account.clone(),
        plan.id,
        "approve",
        &(),
        Some(&mut qa),
    )?;
    let categories = HazardCategory::ALL;
    let mut hazards = Vec::new();
    for i in 0..24 {
        let c = categories[i % categories.len()];
        let h = service::add_hazard(
            conn,
            ctx,
            author,
            product,
            (c.as_str(), &format!("Hazard {i:02}"), "Seeded"),
        )?;
        hazards.push(h.id);
    }
    let mut reqs = Vec::new();
    for i in 0..(count / 2).max(1) {
        let f = crate::domain::requirement::RequirementFields {
            key: format!("RCM-{:04}", i + 1),
            title: format!("Risk control measure {}", i + 1),
            body: "The device limits the hazard as the risk file says.".into(),
            kind: crate::domain::requirement::ReqKind::RiskControl,
            safety_class: crate::domain::product::SafetyClass::C,
        };
        let r = crate::service::requirements::create(conn, ctx, product, &f, &[])?;
        reqs.push(r.id);
    }
    let mut g = Dice(0x2545_f491_4f6c_dd1d);
    let mut controls = 0;
    for i in 0..count {
        let analysis = Analysis {
            hazard: hazards[g.roll(hazards.len() as u64) as usize].to_string(),
            sequence: format!("Sequence of events {i}"),
            situation: format!("Hazardous situation {i}"),
            harm: format!("Harm {i}"),
            estimate: estimate(&mut g),
        };
        let r = service::identify(conn, ctx, author, product, &analysis, None)?;
        let r = walk::take::<RiskWorkflow>(
            conn,
            ctx,
            &who,
            r.id,
            "analyze",
            &RiskInput::default(),
            None,
        )?;
        let mut version = r.version;
        for k in 0..3 {
            let c = ControlText {
                option: [
                    "inherent_safety",
                    "protective_measure",
                    "information_for_safety",
                ][k]
                    .into(),
                description: format!("Control {k} of risk {i}"),
                requirement: reqs[g.roll(reqs.len() as u64) as usize].to_string(),
                effectiveness: "Shown by the seeded verification".into(),
            };
            version = service::add_control(conn, ctx, r.id, version, &c)?.version;
            controls += 1;
        }
        if g.roll(10) < 8 {
            let r = walk::take::<RiskWorkflow>(
                conn,
                ctx,
                &who,
                r.id,
                "control",
                &RiskInput::default(),
                None,
            )?;
            if g.roll(10) < 4 {
                let residual = Residual {
                    estimate: EstimateText {
                        severity: r.initial.map_or(1, |e| e.severity).to_string(),
                        probability: "1".into(),
                        ..EstimateText::default()
                    },
                    ..Residual::default()
                };
                service::update_residual(conn, ctx, r.id, r.version, &residual)?;
            }
        }
    }
    Ok(Seeded {
        product,
        risks: count,
        controls,
    })
}
