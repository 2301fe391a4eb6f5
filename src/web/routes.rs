//! Every URL of the web app, in one place.

use actix_web::{HttpResponse, web};

use super::ask;
use super::assets;
use super::handlers::back_to_record;
use super::handlers::{
    account, admin, attachments, audit, auth, capas, dashboard, documents, health, help, hooks,
    nonconformances as nc, notifications, outbox, products, repositories, requirements as req,
    risk_reports, risks, signatures, tokens, trace, training,
};
use super::step::step;
use crate::domain::capa::CapaWorkflow;
use crate::domain::document::DocWorkflow;
use crate::domain::nonconformance::NcWorkflow;
use crate::domain::risk::plan::PlanWorkflow;
use crate::domain::risk::report::ReportWorkflow;
use crate::domain::risk::workflow::RiskWorkflow;
use crate::domain::training::TrainingWorkflow;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/static/{path:.*}", web::get().to(assets::serve))
        .route(
            "/favicon.ico",
            web::get().to(|| async {
                HttpResponse::MovedPermanently()
                    .insert_header(("Location", "/static/favicon.svg"))
                    .finish()
            }),
        )
        .route("/login", web::get().to(auth::login_form))
        .route("/login", web::post().to(auth::login))
        .route("/logout", web::post().to(auth::logout))
        .route("/", web::get().to(dashboard::index))
        .route("/account", web::get().to(account::show))
        .route(
            "/account/certification",
            web::get().to(account::certification),
        )
        .route("/account/certification", web::post().to(account::certify))
        .route("/account/tokens", web::get().to(tokens::list))
        .route("/account/tokens", web::post().to(tokens::create))
        .route(
            "/account/tokens/{id}/revoke",
            web::post().to(tokens::revoke),
        )
        .route("/account/password", web::get().to(account::password_form))
        .route(
            "/account/password",
            web::post().to(account::change_password),
        )
        .route("/help", web::get().to(help::index))
        .route("/help/{page}", web::get().to(help::page))
        .route("/audit", web::get().to(audit::browse))
        .route("/audit/entry/{seq}", web::get().to(audit::entry))
        // Before the upload's pattern, which would take `{n}/remove` too.
        .route(
            "/attachments/{n}/remove",
            web::post().to(attachments::remove),
        )
        .route("/attachments/{n}/remove", web::get().to(attachments::back))
        .route(
            "/attachments/{type}/{id}",
            web::post().to(attachments::upload),
        )
        .route("/attachments/{type}/{id}", web::get().to(attachments::back))
        .route("/attachments/{n}", web::get().to(attachments::download))
        .route(
            "/audit/record/{type}/{id}/trail.csv",
            web::get().to(audit::record_csv),
        )
        .route(
            "/audit/record/{type}/{id}/packet",
            web::get().to(audit::record_packet),
        )
        .route("/audit/key", web::get().to(audit::key))
        .route("/audit/checkpoint", web::get().to(audit::checkpoint))
        .route("/audit/export", web::get().to(audit::export))
        .route("/audit/verify", web::get().to(audit::verify_now))
        .route("/signatures", web::get().to(signatures::list))
        .route("/signatures/keys", web::get().to(signatures::keys))
        .route("/audit/entries", web::get().to(audit::entries))
        .route("/audit/proof/inclusion", web::get().to(audit::inclusion))
        .route(
            "/audit/proof/consistency",
            web::get().to(audit::consistency),
        )
        .service(
            web::scope("/nonconformances")
                .route("", web::get().to(nc::list))
                .route("", web::post().to(nc::create))
                .route("/new", web::get().to(nc::new_form))
                .route("/{id}", web::get().to(nc::show))
                .route("/{id}/edit", web::post().to(nc::edit))
                .route(
                    "/{id}/signature-requests",
                    web::post().to(ask::ask::<NcWorkflow>),
                )
                .route(
                    "/{id}/signature-requests/{request}/withdraw",
                    web::post().to(ask::withdraw::<NcWorkflow>),
                )
                .route("/{id}/{action}", web::post().to(step::<NcWorkflow>))
                .route("/{id}/{tail:.*}", web::get().to(back_to_record)),
        )
        .service(
            web::scope("/documents")
                .route("", web::get().to(documents::list))
                .route("", web::post().to(documents::create))
                .route("/new", web::get().to(documents::new_form))
                .route("/exports", web::get().to(documents::exports))
                .route("/exports", web::post().to(documents::export))
                .route("/exports/{id}/file", web::get().to(documents::export_file))
                .route(
                    "/exports/{id}/manifest",
                    web::get().to(documents::export_manifest),
                )
                .route("/{id}", web::get().to(documents::show))
                .route("/{id}/edit", web::post().to(documents::correct))
                .route("/{id}/revise", web::post().to(documents::revise))
                .route("/{id}/links", web::post().to(documents::link))
                .route(
                    "/{id}/links/{link}/remove",
                    web::post().to(documents::unlink),
                )
                .route("/{id}/redline", web::get().to(documents::redline))
                .route("/{id}/v/{number}", web::get().to(documents::show_version))
                .route("/{id}/v/{number}/print", web::get().to(documents::print))
                .route("/{id}/{tail:.*}", web::get().to(back_to_record)),
        )
        .service(
            web::scope("/document-versions")
                .route("/{id}", web::get().to(documents::version_by_id))
                .route("/{id}/draft", web::post().to(documents::save_draft))
                .route("/{id}/carries-out", web::post().to(documents::carries_out))
                .route("/{id}/quiz", web::get().to(training::quiz_form))
                .route("/{id}/quiz", web::post().to(training::save_quiz))
                .route(
                    "/{id}/signature-requests",
                    web::post().to(ask::ask::<DocWorkflow>),
                )
                .route(
                    "/{id}/signature-requests/{request}/withdraw",
                    web::post().to(ask::withdraw::<DocWorkflow>),
                )
                .route("/{id}/{action}", web::post().to(step::<DocWorkflow>))
                .route("/{id}/{tail:.*}", web::get().to(back_to_record)),
        )
        .service(
            web::scope("/training")
                .route("", web::get().to(training::matrix))
                .route("/mine", web::get().to(training::mine))
                .route("/curricula", web::get().to(training::curricula))
                .route("/curricula/edit", web::get().to(training::curriculum_form))
                .route(
                    "/curricula/{doc}",
                    web::post().to(training::save_curriculum),
                )
                .route("/settings", web::get().to(training::settings_form))
                .route("/settings", web::post().to(training::save_settings))
                .route("/exports", web::get().to(training::exports))
                .route("/exports", web::post().to(training::export))
                .route("/exports/{id}/file", web::get().to(training::export_file))
                .route(
                    "/exports/{id}/manifest",
                    web::get().to(training::export_manifest),
                )
                .route("/people/{id}", web::get().to(training::person))
                .route("/people/{id}/print", web::get().to(training::person_print))
                .route("/{id}", web::get().to(training::show))
                .route("/{id}/quiz", web::post().to(training::quiz))
                .route(
                    "/{id}/signature-requests",
                    web::post().to(ask::ask::<TrainingWorkflow>),
                )
                .route(
                    "/{id}/signature-requests/{request}/withdraw",
                    web::post().to(ask::withdraw::<TrainingWorkflow>),
                )
                .route("/{id}/{action}", web::post().to(step::<TrainingWorkflow>))
                .route("/{id}/{tail:.*}", web::get().to(back_to_record)),
        )
        .service(
            web::scope("/capas")
                .route("", web::get().to(capas::list))
                .route("", web::post().to(capas::create))
                .route("/new", web::get().to(capas::new_form))
                .route("/export.csv", web::get().to(capas::export_csv))
                .route("/{id}", web::get().to(capas::show))
                .route("/{id}/details", web::post().to(capas::details))
                .route("/{id}/investigation", web::post().to(capas::investigation))
                .route("/{id}/plan", web::post().to(capas::plan))
                .route("/{id}/items", web::post().to(capas::add_item))
                .route(
                    "/{id}/items/{item}/done",
                    web::post().to(capas::complete_item),
                )
                .route(
                    "/{id}/items/{item}/edit",
                    web::post().to(capas::change_item),
                )
                .route(
                    "/{id}/signature-requests",
                    web::post().to(ask::ask::<CapaWorkflow>),
                )
                .route(
                    "/{id}/signature-requests/{request}/withdraw",
                    web::post().to(ask::withdraw::<CapaWorkflow>),
                )
                .route("/{id}/{action}", web::post().to(step::<CapaWorkflow>))
                .route("/{id}/{tail:.*}", web::get().to(back_to_record)),
        )
        .service(
            web::scope("/api/v1")
                .route("/test-runs", web::post().to(super::api::post_test_run))
                .route("/requirements", web::get().to(super::api::get_requirements))
                .route("/test-cases", web::get().to(super::api::get_test_cases))
                .route("/matrix", web::get().to(super::api::get_matrix))
                .route("/capas", web::get().to(super::api::get_capas))
                .route("/documents", web::get().to(super::api::get_documents))
                .route("/documents/{key}", web::get().to(super::api::get_document))
                .route("/training", web::get().to(super::api::get_training))
                .route("/risks", web::get().to(super::api::get_risks))
                .route(
                    "/nonconformances",
                    web::get().to(super::api::get_nonconformances),
                ),
        )
        .route("/traceability", web::get().to(trace::matrix_page))
        .route("/trace", web::to(trace::moved))
        .route("/trace/{tail:.*}", web::to(trace::moved))
        .route("/traceability/gaps", web::get().to(trace::gaps_page))
        .route("/traceability/exports", web::get().to(trace::exports_page))
        .route(
            "/traceability/exports",
            web::post().to(trace::create_export),
        )
        .route(
            "/traceability/exports/{id}",
            web::get().to(trace::export_page),
        )
        .route(
            "/traceability/exports/{id}/file",
            web::get().to(trace::export_file),
        )
        .route(
            "/traceability/exports/{id}/view",
            web::get().to(trace::export_view),
        )
        .route(
            "/traceability/exports/{id}/manifest",
            web::get().to(trace::export_manifest),
        )
        .route("/hooks/github", web::post().to(hooks::github))
        .route("/hooks/gitlab", web::post().to(hooks::gitlab))
        .service(
            web::scope("/admin/repositories")
                .route("", web::get().to(repositories::list))
                .route("", web::post().to(repositories::create))
                .route("/{id}", web::get().to(repositories::show))
                .route("/{id}/rotate", web::post().to(repositories::rotate))
                .route("/{id}/deactivate", web::post().to(repositories::deactivate))
                .route("/{id}/activate", web::post().to(repositories::activate))
                .route("/{id}/{tail:.*}", web::get().to(back_to_record)),
        )
        .service(
            web::scope("/requirements")
                .route("", web::get().to(req::list))
                .route("", web::post().to(req::create))
                .route("/new", web::get().to(req::new_form))
                .route("/import", web::get().to(req::import_form))
                .route("/import", web::post().to(req::upload))
                .route("/imports/{id}", web::get().to(req::import_show))
                .route("/imports/{id}/apply", web::post().to(req::apply))
                .route("/{id}", web::get().to(req::show))
                .route("/{id}", web::post().to(req::update))
                .route("/{id}/parents", web::post().to(req::add_parent))
                .route(
                    "/{id}/parents/{link}/remove",
                    web::post().to(req::remove_parent),
                )
                .route("/{id}/tests", web::post().to(req::link_test))
                .route("/{id}/commits", web::post().to(req::link_commit))
                .route("/{id}/links/{link}/remove", web::post().to(req::unlink))
                .route("/{id}/retire", web::post().to(req::retire))
                .route("/{id}/restore", web::post().to(req::restore))
                .route("/{id}/{tail:.*}", web::get().to(back_to_record)),
        )
        .service(
            web::scope("/products")
                .route("", web::get().to(products::list))
                .route("", web::post().to(products::create))
                .route("/new", web::get().to(products::new_form))
                .route("/{id}", web::get().to(products::show))
                .route("/{id}", web::post().to(products::update))
                .route("/{id}/archive", web::post().to(products::archive))
                .route("/{id}/restore", web::post().to(products::restore))
                .route("/{id}/risks", web::get().to(risks::file))
                .route("/{id}/risks", web::post().to(risks::create))
                .route("/{id}/hazards", web::post().to(risks::add_hazard))
                .route("/{id}/risk-plan", web::post().to(risks::start_plan))
                .route("/{id}/risk-reports", web::post().to(risk_reports::start))
                .route("/{id}/risks/export", web::post().to(risks::export))
                .route("/{id}/{tail:.*}", web::get().to(back_to_record)),
        )
        .service(
            web::scope("/risks")
                .route("/{id}", web::get().to(risks::show))
                .route("/{id}/analysis", web::post().to(risks::save_analysis))
                .route("/{id}/residual", web::post().to(risks::save_residual))
                .route("/{id}/review", web::post().to(risks::save_review))
                .route("/{id}/controls", web::post().to(risks::add_control))
                .route(
                    "/{id}/controls/{control}",
                    web::post().to(risks::change_control),
                )
                .route("/{id}/links", web::post().to(risks::link_record))
                .route(
                    "/{id}/links/{link}/remove",
                    web::post().to(risks::unlink_record),
                )
                .route(
                    "/{id}/signature-requests",
                    web::post().to(ask::ask::<RiskWorkflow>),
                )
                .route(
                    "/{id}/signature-requests/{request}/withdraw",
                    web::post().to(ask::withdraw::<RiskWorkflow>),
                )
                .route("/{id}/{action}", web::post().to(step::<RiskWorkflow>))
                .route("/{id}/{tail:.*}", web::get().to(back_to_record)),
        )
        .service(
            web::scope("/risk-reports")
                .route("/{id}", web::get().to(risk_reports::show))
                .route("/{id}/edit", web::post().to(risk_reports::save))
                .route(
                    "/{id}/signature-requests",
                    web::post().to(ask::ask::<ReportWorkflow>),
                )
                .route(
                    "/{id}/signature-requests/{request}/withdraw",
                    web::post().to(ask::withdraw::<ReportWorkflow>),
                )
                .route("/{id}/{action}", web::post().to(step::<ReportWorkflow>))
                .route("/{id}/{tail:.*}", web::get().to(back_to_record)),
        )
        .route(
            "/risk-reviews/{kind}/{n}",
            web::post().to(risk_reports::decide),
        )
        .route("/notifications", web::get().to(notifications::list))
        .route(
            "/notifications/settings",
            web::get().to(notifications::settings),
        )
        .route(
            "/notifications/settings",
            web::post().to(notifications::save_settings),
        )
        .route(
            "/notifications/read-all",
            web::post().to(notifications::read_all),
        )
        .route(
            "/notifications/{id}/open",
            web::post().to(notifications::open),
        )
        .route("/risk-exports", web::get().to(risks::exports))
        .route("/risk-exports/{id}/file", web::get().to(risks::export_file))
        .route(
            "/risk-exports/{id}/manifest",
            web::get().to(risks::export_manifest),
        )
        .service(
            web::scope("/risk-plans")
                .route("/{id}", web::get().to(risks::plan))
                .route("/{id}/edit", web::post().to(risks::save_plan))
                .route(
                    "/{id}/signature-requests",
                    web::post().to(ask::ask::<PlanWorkflow>),
                )
                .route(
                    "/{id}/signature-requests/{request}/withdraw",
                    web::post().to(ask::withdraw::<PlanWorkflow>),
                )
                .route("/{id}/{action}", web::post().to(step::<PlanWorkflow>))
                .route("/{id}/{tail:.*}", web::get().to(back_to_record)),
        )
        .service(
            web::scope("/admin/users")
                .route("", web::get().to(admin::list))
                .route("", web::post().to(admin::create))
                .route("/new", web::get().to(admin::new_form))
                .route("/{id}", web::get().to(admin::show))
                .route("/{id}/profile", web::post().to(admin::update_profile))
                .route("/{id}/roles", web::post().to(admin::update_roles))
                .route("/{id}/disable", web::post().to(admin::disable))
                .route("/{id}/enable", web::post().to(admin::enable))
                .route(
                    "/{id}/reset-password",
                    web::post().to(admin::reset_password),
                )
                .route("/{id}/unlock", web::post().to(admin::unlock))
                .route("/{id}/{tail:.*}", web::get().to(back_to_record)),
        )
        .service(
            web::scope("/admin/outbox")
                .route("", web::get().to(outbox::list))
                .route("/test", web::post().to(outbox::test))
                .route("/{id}", web::get().to(outbox::show))
                .route("/{id}/retry", web::post().to(outbox::retry)),
        );
}
