//! End to end in a real browser: Debian's Chromium driven over WebDriver
//! (chromedriver), with a minimal W3C WebDriver client on reqwest. It proves
//! what curl cannot: a browser's Origin / Sec-Fetch-Site headers pass the CSRF
//! check, SameSite=Strict cookies work, and the CSP lets our own stylesheet in.
//!
//! Runs when chromedriver is installed; `.ci/run` installs it and sets
//! ATTEST_REQUIRE_BROWSER=1, which turns "not installed" into a failure.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::*;

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Driver {
    child: Child,
    http: reqwest::Client,
    base: String,
    session: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_on_path(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|f| f.is_file())
    })
}

impl Driver {
    /// Starts chromedriver and a headless Chromium session, or says why not.
    async fn start() -> Option<Driver> {
        let required = std::env::var("ATTEST_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
        let (Some(driver), Some(chromium)) =
            (find_on_path("chromedriver"), find_on_path("chromium"))
        else {
            assert!(
                !required,
                "ATTEST_REQUIRE_BROWSER=1 but chromium / chromedriver are not installed"
            );
            eprintln!(
                "browser test skipped: install Debian's chromium and chromium-driver to run it"
            );
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let mut ready = false;
        for _ in 0..100 {
            if let Ok(res) = http.get(format!("{base}/status")).send().await
                && res
                    .json::<Value>()
                    .await
                    .is_ok_and(|v| v["value"]["ready"] == true)
            {
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(ready, "chromedriver did not become ready");
        let profile = tempfile::tempdir().unwrap();
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ];
        let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {"binary": chromium, "args": args}}}});
        let res: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = res["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {res}"))
            .to_string();
        Some(Driver {
            child,
            http,
            base,
            session,
            _profile: profile,
        })
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let req = self.http.request(method.clone(), url);
        // W3C WebDriver: GET commands carry no body.
        let req = if method == reqwest::Method::GET {
            req
        } else {
            req.json(&body)
        };
        let res: Value = req.send().await.unwrap().json().await.unwrap();
        assert!(
            res["value"].get("error").is_none(),
            "WebDriver {path}: {res}"
        );
        res["value"].clone()
    }

    /// Ends the WebDriver session, which closes Chromium.
    async fn quit(&self) {
        let url = format!("{}/session/{}", self.base, self.session);
        let _ = self.http.delete(url).send().await;
    }

    async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", json!({"url": url}))
            .await;
    }

    async fn element(&self, css: &str) -> String {
        let v = self
            .cmd(
                reqwest::Method::POST,
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        v[ELEMENT].as_str().unwrap().to_string()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            json!({"text": text}),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        // In the middle of the window, clear of the sticky section menu.
        self.script(&format!(
            "const e = document.querySelector({css:?}); if (e) e.scrollIntoView({{block: 'center'}}); return null"
        ))
        .await;
        let id = self.element(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            json!({}),
        )
        .await;
    }

    async fn path(&self) -> String {
        let url = self.cmd(reqwest::Method::GET, "/url", Value::Null).await;
        let url = url.as_str().unwrap().to_string();
        url.splitn(4, '/')
            .nth(3)
            .map(|p| format!("/{p}"))
            .unwrap_or_default()
    }

    /// Waits (up to 20 s) until the browser has navigated to `expected`.
    async fn wait_for_path(&self, expected: &str) {
        let mut seen = String::new();
        for _ in 0..200 {
            seen = self.path().await;
            if seen == expected {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("expected to arrive at {expected}, still at {seen}");
    }

    /// Waits (up to 20 s) until the page shows `needle`.
    async fn wait_for_text(&self, needle: &str) -> String {
        let mut text = String::new();
        for _ in 0..200 {
            text = self.text().await;
            if text.contains(needle) {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("expected the page to show {needle:?}; it shows {text}");
    }

    async fn text(&self) -> String {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            json!({"script": "return document.body.innerText", "args": []}),
        )
        .await
        .as_str()
        .unwrap()
        .to_string()
    }

    async fn script(&self, script: &str) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            json!({"script": script, "args": []}),
        )
        .await
    }

    /// Shows pages `width` CSS pixels wide, as a phone (390) or a desktop
    /// (1440) does: Chromium's device emulation, since a headless window
    /// cannot be narrower than 500 px.
    async fn set_width(&self, width: u32) {
        self.cmd(
            reqwest::Method::POST,
            "/goog/cdp/execute",
            json!({"cmd": "Emulation.setDeviceMetricsOverride", "params": {
                "width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600
            }}),
        )
        .await;
    }

    /// The page does not scroll sideways: nothing is wider than the window.
    async fn assert_fits(&self, what: &str) {
        let r = self
            .script("return [document.documentElement.scrollWidth, window.innerWidth]")
            .await;
        let (scroll, inner) = (r[0].as_i64().unwrap(), r[1].as_i64().unwrap());
        assert!(
            scroll <= inner,
            "{what}: the page is {scroll} px wide in a {inner} px window"
        );
    }

    /// Sets an input's value as a date picker would (typing a date into a
    /// date field depends on the browser's locale).
    async fn set_value(&self, css: &str, value: &str) {
        self.script(&format!(
            "document.querySelector({css:?}).value = {value:?}; return null"
        ))
        .await;
    }

    /// Opens the disclosure whose summary `css` names.
    async fn open(&self, css: &str) {
        self.script(&format!(
            "document.querySelector({css:?}).closest('details').open = true; return null"
        ))
        .await;
    }

    /// Whether element `css` is inside the window now (scrolled to).
    async fn in_view(&self, css: &str) -> bool {
        self.script(&format!(
            "const r = document.querySelector({css:?}).getBoundingClientRect(); return r.top >= 0 && r.top < window.innerHeight"
        ))
        .await
        .as_bool()
        .unwrap_or(false)
    }

    async fn sign_in(&self, base: &str, username: &str, password: &str) {
        self.goto(&format!("{base}/login")).await;
        self.type_into("#username", username).await;
        self.type_into("#password", password).await;
        self.click("button[type=submit]").await;
        self.wait_for_path("/").await;
    }

    async fn sign_out(&self) {
        self.click("header form button").await;
        self.wait_for_path("/login?signed_out=1").await;
    }
}

#[tokio::test]
async fn a_new_user_signs_in_in_a_real_browser_sets_a_password_and_signs_out() {
    let Some(browser) = Driver::start().await else {
        return;
    };
    let app = spawn_app().await;
    let otp = app
        .admin()
        .await
        .create_user("chromeuser", "Chrome User", &["quality"])
        .await;

    browser.goto(&format!("{}/admin/users", app.base)).await;
    browser.wait_for_path("/login?next=/admin/users").await;
    browser.type_into("#username", "chromeuser").await;
    browser.type_into("#password", "not the password").await;
    browser.click("button[type=submit]").await;
    browser
        .wait_for_text("The username or password is wrong")
        .await;

    browser.type_into("#password", &otp).await;
    browser.click("button[type=submit]").await;
    // A one-time password must be changed first.
    browser.wait_for_path("/account/password").await;
    browser.type_into("#current_password", &otp).await;
    browser
        .type_into("#new_password", "chosen in the browser")
        .await;
    browser
        .type_into("#confirm_password", "chosen in the browser")
        .await;
    browser.click("form.stack button[type=submit]").await;
    browser.wait_for_path("/").await;
    let text = browser
        .wait_for_text("Your password has been changed.")
        .await;
    assert!(text.contains("What needs me"));
    assert!(
        !text.contains("Users"),
        "no link to pages a quality user cannot open"
    );

    // The stylesheet was allowed by the CSP and applied.
    let bg = browser
        .script("return getComputedStyle(document.querySelector('header.top')).backgroundColor")
        .await;
    assert_eq!(bg, "rgb(31, 78, 121)");
    // The session cookie is invisible to scripts (HttpOnly).
    assert_eq!(browser.script("return document.cookie").await, "");

    browser.click("header form button").await;
    browser.wait_for_path("/login?signed_out=1").await;
    browser.wait_for_text("You have signed out.").await;
    assert_eq!(app.audit_of("auth.logout").len(), 1);
    assert_eq!(app.audit_of("user.password_changed").len(), 1);
    browser.quit().await;
}

#[tokio::test]
async fn quality_takes_a_nonconformance_from_report_to_closure_in_a_real_browser() {
    let Some(browser) = Driver::start().await else {
        return;
    };
    let app = spawn_app().await;
    let admin = app.admin().await;
    let res = admin
        .submit(
            "/products/new",
            "/products",
            &[
                ("name", "Infusion pump"),
                ("key_prefix", "PUMP"),
                ("safety_class", "C"),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    app.user_with_roles("quinn", &["quality"], "quality passphrase 1")
        .await;
    app.user_with_roles("petra", &["quality"], "quality passphrase 2")
        .await;

    browser.goto(&format!("{}/login", app.base)).await;
    browser.type_into("#username", "quinn").await;
    browser.type_into("#password", "quality passphrase 1").await;
    browser.click("button[type=submit]").await;
    browser.wait_for_path("/").await;

    browser
        .goto(&format!("{}/nonconformances/new", app.base))
        .await;
    browser.type_into("#title", "Bent housing at hinge").await;
    browser.click("#source option[value=production]").await;
    browser.click("#product_id option[value='1']").await;
    browser.click("#severity option[value=high]").await;
    browser
        .type_into("#description", "3 of 40 housings bent at the hinge")
        .await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for_text("NC-1 reported.").await;
    let current = "return document.querySelector('svg.diagram .state.current text').textContent";
    assert_eq!(browser.script(current).await, "Reported");

    browser.click("form#step-start_review button").await;
    browser.wait_for_text("NC-1 is now under review.").await;
    assert_eq!(browser.script(current).await, "Under review");

    // "Use as is" accepts nonconforming product: not by the person who
    // reported it, and they are told so before any password is asked for.
    let use_as_is = async || {
        browser
            .click("#step-disposition-disposition option[value=use_as_is]")
            .await;
        browser
            .type_into(
                "#step-disposition-justification",
                "Bend is within the hinge's tolerance",
            )
            .await;
        browser.click("form#step-disposition button").await;
    };
    use_as_is().await;
    let text = browser
        .wait_for_text("The reporter may not sign this (segregation of duties)")
        .await;
    assert!(!text.contains("Sign: Disposition of NC-1"), "{text}");
    browser.click("header form button").await;
    browser.wait_for_path("/login?signed_out=1").await;
    browser.type_into("#username", "petra").await;
    browser.type_into("#password", "quality passphrase 2").await;
    browser.click("button[type=submit]").await;
    browser.wait_for_path("/").await;
    browser
        .goto(&format!("{}/nonconformances/1", app.base))
        .await;

    // Another quality member signs: the signing form shows what is signed
    // and asks for the username (first of the session) and password.
    use_as_is().await;
    let form = browser.wait_for_text("Sign: Disposition of NC-1").await;
    assert!(form.contains("Bend is within the hinge's tolerance"));
    browser.type_into("#signature_username", "petra").await;
    browser
        .type_into("#signature_password", "quality passphrase 2")
        .await;
    browser.click("form button.primary").await;
    let text = browser.wait_for_text("NC-1 is now dispositioned.").await;
    assert!(text.contains("Approved by petra Person (petra)"), "{text}");
    assert!(text.contains("✓ verified"), "{text}");

    browser
        .type_into(
            "#step-close-closure_note",
            "Released to stock under the signed decision",
        )
        .await;
    browser.click("form#step-close button").await;
    let text = browser.wait_for_text("NC-1 is now closed.").await;
    assert!(text.contains("the record is closed and can no longer change"));
    assert_eq!(browser.script(current).await, "Closed");
    assert_eq!(app.audit_of("nonconformance.transition").len(), 3);
    browser.quit().await;
}

#[tokio::test]
async fn the_owner_records_and_reorders_a_five_whys_chain_and_sees_the_fishbone_in_a_real_browser()
{
    let Some(browser) = Driver::start().await else {
        return;
    };
    let app = spawn_app().await;
    let (quinn, _) = app
        .user_with_roles("quinn", &["quality"], "quality passphrase 1")
        .await;
    let (_, ellen) = app
        .user_with_roles("ellen", &["engineer"], "engineer passphrase 2")
        .await;
    let owner = ellen.to_string();
    let open = [
        ("title", "Seal leaks at 2 bar"),
        ("kind", "corrective"),
        ("source", "complaint"),
        ("problem", "Seals leak after cold storage"),
        ("priority", "high"),
        ("owner_id", owner.as_str()),
    ];
    assert_eq!(
        quinn.submit("/capas/new", "/capas", &open).await.status(),
        303
    );

    browser.goto(&format!("{}/login", app.base)).await;
    browser.type_into("#username", "ellen").await;
    browser
        .type_into("#password", "engineer passphrase 2")
        .await;
    browser.click("button[type=submit]").await;
    browser.wait_for_path("/").await;
    browser.goto(&format!("{}/capas/1", app.base)).await;
    browser.click("form#step-start_investigation button").await;
    browser
        .wait_for_text("CAPA-1 is now in investigation.")
        .await;

    // Two whys, the second without its answer: refused, nothing lost.
    let row = |n: usize, field: &str| format!(".why-row:nth-of-type({n}) input[name={field}]");
    browser
        .click("section[aria-labelledby=inv-h] details summary")
        .await;
    browser
        .click("#investigation-rca_method option[value=five_whys]")
        .await;
    browser
        .type_into(&row(1, "why_q"), "Why did the seal leak?")
        .await;
    browser
        .type_into(&row(1, "why_a"), "The seal had hardened")
        .await;
    browser
        .type_into(&row(2, "why_q"), "Why did it harden?")
        .await;
    browser
        .type_into("#cause-material", "New seal compound\nNo cold test")
        .await;
    browser
        .type_into(
            "#investigation-root_cause",
            "The new compound hardens below 10 °C",
        )
        .await;
    browser
        .click("#investigation-action_required option[value=yes]")
        .await;
    browser
        .type_into("#investigation-action_rationale", "Leaks reach patients")
        .await;
    browser
        .click("form#investigation-form button[type=submit]")
        .await;
    browser
        .wait_for_text("Why 2 needs both the question and its answer")
        .await;
    let kept = format!("return document.querySelector('{}').value", row(2, "why_q"));
    assert_eq!(browser.script(&kept).await, "Why did it harden?");

    // Answer it and put it first by its number.
    browser
        .type_into(&row(2, "why_a"), "The supplier changed the compound")
        .await;
    browser
        .script(&format!(
            "document.querySelector('{}').value = '2'; document.querySelector('{}').value = '1'; return null",
            row(1, "why_pos"),
            row(2, "why_pos")
        ))
        .await;
    browser
        .click("form#investigation-form button[type=submit]")
        .await;
    // The flash says the save went through (the form's own legend also
    // says "Five whys", so that would not show the page has changed).
    browser.wait_for_text("Investigation saved.").await;
    let first = browser
        .script("return document.querySelector('ol.whys li').textContent")
        .await;
    assert_eq!(
        first,
        "Why did it harden? The supplier changed the compound"
    );
    let fishbone = browser
        .script("return document.querySelector('figure.fishbone svg').textContent")
        .await;
    let fishbone = fishbone.as_str().unwrap();
    assert!(
        fishbone.contains("New seal compound") && fishbone.contains("No cold test"),
        "{fishbone}"
    );
    let c = attest::db::repo::capas::find(&mut app.conn(), 1)
        .unwrap()
        .unwrap();
    assert_eq!(c.whys.len(), 2);
    assert_eq!(c.whys[1].question, "Why did the seal leak?");
    browser.quit().await;
}

const QUINN: &str = "quality passphrase 1";
const PETRA: &str = "quality passphrase 2";

/// Issue 14, "Done when": the whole walk in a real browser at `width`
/// px: report an NC, escalate it, investigate with five whys and a
/// fishbone, plan and complete actions with evidence files, verify, close
/// with another quality manager's signature, read the history; a refused
/// form on the way keeps what was typed and shows its summary; no page
/// scrolls sideways; the stepper marks the current step.
async fn the_whole_walk_at(width: u32) {
    let Some(b) = Driver::start().await else {
        return;
    };
    b.set_width(width).await;
    let app = spawn_app().await;
    let admin = app.admin().await;
    let pid = crate::nonconformances::product(&admin, &app, "PUMP").await;
    let (_, quinn_id) = app.user_with_roles("quinn", &["quality"], QUINN).await;
    app.user_with_roles("petra", &["quality"], PETRA).await;
    let base = app.base.clone();
    let at = |what: &str| format!("{what} at {width} px");

    b.sign_in(&base, "quinn", QUINN).await;
    b.assert_fits(&at("the dashboard")).await;
    b.goto(&format!("{base}/nonconformances/new")).await;
    b.assert_fits(&at("the report form")).await;
    b.type_into("#title", "Bent housing at hinge").await;
    b.click("#source option[value=production]").await;
    b.click(&format!("#product_id option[value='{pid}']")).await;
    b.click("#severity option[value=high]").await;
    b.type_into("#description", "3 of 40 housings bent at the hinge")
        .await;
    b.click("main form button[type=submit]").await;
    b.wait_for_text("NC-1 reported.").await;
    b.assert_fits(&at("the NC page")).await;
    b.click("form#step-start_review button").await;
    b.wait_for_text("NC-1 is now under review.").await;
    let current = "return document.querySelector('ol.stepper li[aria-current=step]').textContent";
    assert!(
        b.script(current)
            .await
            .as_str()
            .unwrap()
            .starts_with("Under review")
    );
    b.click("form#step-escalate_to_capa button").await;
    b.wait_for_text("CAPA-1 opened from NC-1").await;
    b.assert_fits(&at("the new CAPA's page")).await;

    // Details: owner and priority; the checklist then allows the step.
    b.open("#details").await;
    b.click(&format!("#details-owner_id option[value='{quinn_id}']"))
        .await;
    b.click("#details-priority option[value=high]").await;
    b.click("form#details button[type=submit]").await;
    b.wait_for_text("Saved.").await;
    b.click("form#step-start_investigation button").await;
    b.wait_for_text("CAPA-1 is now in investigation.").await;
    assert!(
        b.script(current)
            .await
            .as_str()
            .unwrap()
            .starts_with("Investigation")
    );

    // The investigation: five whys and a fishbone.
    b.open("#investigation-form").await;
    let row = |n: usize, field: &str| format!(".why-row:nth-of-type({n}) input[name={field}]");
    b.click("#investigation-rca_method option[value=five_whys]")
        .await;
    b.type_into(&row(1, "why_q"), "Why did the housing bend?")
        .await;
    b.type_into(&row(1, "why_a"), "The hinge boss is too thin")
        .await;
    b.type_into("#cause-machine", "Worn mould insert").await;
    b.type_into("#cause-method", "No wall-thickness check")
        .await;
    b.type_into(
        "#investigation-root_cause",
        "The mould insert wore and thinned the boss",
    )
    .await;
    b.click("#investigation-action_required option[value=yes]")
        .await;
    b.type_into("#investigation-action_rationale", "Recurs every lot")
        .await;
    b.click("form#investigation-form button[type=submit]").await;
    b.wait_for_text("Investigation saved.").await;
    b.assert_fits(&at("the CAPA page with its fishbone")).await;

    // An action item; a due date in the past is refused, nothing lost.
    b.open("#item-new").await;
    b.type_into("#item-new-text", "Replace the mould insert")
        .await;
    b.click(&format!("#item-new-owner_id option[value='{quinn_id}']"))
        .await;
    b.set_value("#item-new-due_on", "2001-01-01").await;
    b.click("form#item-new button[type=submit]").await;
    b.wait_for_text("The due date cannot be in the past.").await;
    assert!(
        b.in_view("#item-new-problems").await,
        "{}",
        at("the summary in view")
    );
    assert_eq!(
        b.script("return document.querySelector('#item-new-text').value")
            .await,
        "Replace the mould insert"
    );
    b.assert_fits(&at("a refused form")).await;
    let due = (app.clock.today() + chrono::Duration::days(14)).to_string();
    b.set_value("#item-new-due_on", &due).await;
    b.click("form#item-new button[type=submit]").await;
    b.wait_for_text("Action item added.").await;
    b.click("form#step-plan_actions button").await;
    b.wait_for_text("CAPA-1 is now in action.").await;

    // Done with its evidence, and the evidence file attached to the item.
    b.open("#item-1-done").await;
    b.type_into("#item-1-done-evidence", "Insert replaced, work order WO-88")
        .await;
    b.click("form#item-1-done button[type=submit]").await;
    b.wait_for_text("Action item done.").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("WO-88 report.txt");
    std::fs::write(&file, b"Work order 88: insert replaced, 30 parts measured").unwrap();
    let item = attest::db::repo::capas::find(&mut app.conn(), 1)
        .unwrap()
        .unwrap()
        .items[0]
        .id;
    b.click(&format!("#attach-part option[value='capa-item-{item}']"))
        .await;
    b.type_into("#attach-file", file.to_str().unwrap()).await;
    b.click("form#attach button[type=submit]").await;
    b.wait_for_text("WO-88 report.txt attached").await;
    let card = "return document.querySelector('#item-1').textContent";
    assert!(
        b.script(card)
            .await
            .as_str()
            .unwrap()
            .contains("WO-88 report.txt")
    );

    // The verification plan, then verification.
    b.open("#plan").await;
    b.type_into(
        "#plan-no_adverse_effect",
        "None on other parts of the housing",
    )
    .await;
    b.type_into("#plan-effectiveness_criteria", "No bent housing in 3 lots")
        .await;
    b.set_value("#plan-effectiveness_due", &due).await;
    b.click("form#plan button[type=submit]").await;
    b.wait_for_text("Plan saved.").await;
    b.click("form#step-submit_verification button").await;
    b.wait_for_text("CAPA-1 is now in verification.").await;
    // The owner may not sign the closure: the page says whom it waits on.
    b.wait_for_text("Waiting on a quality signature that is not the owner's")
        .await;
    // The owner asks a quality colleague by name to sign it.
    let petra_id = app.user_id("petra");
    b.open("#ask-close_effective").await;
    b.click(&format!(
        "#ask-close_effective-asked_of option[value='{petra_id}']"
    ))
    .await;
    b.type_into("#ask-close_effective-note", "The 3 lots are in")
        .await;
    b.click("form#ask-close_effective button[type=submit]")
        .await;
    b.wait_for_text("petra Person is asked to sign “Close as effective” on CAPA-1.")
        .await;
    b.wait_for_text("Waiting on petra Person: asked by quinn Person on")
        .await;
    b.assert_fits(&at("a signature request")).await;
    b.sign_out().await;

    // She finds it in What needs me, checks effectiveness and signs.
    b.sign_in(&base, "petra", PETRA).await;
    b.wait_for_text("CAPA-1: quinn Person asks for your signature")
        .await;
    b.click("main a[href='/capas/1#next']").await;
    b.wait_for_text("quinn Person asked you to sign this").await;
    b.type_into(
        "#step-close_effective-effectiveness_evidence",
        "3 lots, 0 bent housings",
    )
    .await;
    b.click("form#step-close_effective button[value=effective]")
        .await;
    b.wait_for_text("Sign: Close as effective of CAPA-1").await;
    b.assert_fits(&at("the signing form")).await;
    b.type_into("#signature_username", "petra").await;
    b.type_into("#signature_password", PETRA).await;
    b.click("form button.primary").await;
    let text = b.wait_for_text("CAPA-1 is now closed.").await;
    assert!(text.contains("✓ verified"), "{text}");
    assert!(
        b.script(current)
            .await
            .as_str()
            .unwrap()
            .starts_with("Closed")
    );

    // The history in people's words.
    let history = "return document.querySelector('#history').textContent";
    let h = b.script(history).await;
    let h = h.as_str().unwrap();
    assert!(h.contains("CAPA: Close as effective"), "{h}");
    assert!(
        h.contains("Approved: effective, for “Close as effective”"),
        "{h}"
    );
    assert!(!h.contains("close_effective"), "{h}");
    b.assert_fits(&at("the closed CAPA")).await;
    b.goto(&format!("{base}/audit/record/capa/capa-1/packet"))
        .await;
    b.wait_for_text("Record packet: CAPA CAPA-1").await;
    b.assert_fits(&at("the record packet")).await;
    b.quit().await;
}

#[tokio::test]
async fn the_whole_walk_works_in_a_real_browser_at_1440_px() {
    the_whole_walk_at(1440).await;
}

#[tokio::test]
async fn the_whole_walk_works_in_a_real_browser_at_390_px() {
    the_whole_walk_at(390).await;
}

/// Issue 14, items 7, 8 and 12: every list and record page fits a 390 px
/// and a 1440 px window without scrolling sideways; at 390 px the menu is
/// folded, at 1440 px the administrator's menu is one line; chart text is
/// 11 px or more.
#[tokio::test]
async fn every_page_fits_a_phone_and_a_desktop() {
    let Some(b) = Driver::start().await else {
        return;
    };
    let app = spawn_app().await;
    let admin = app.admin().await;
    let pid = crate::nonconformances::product(&admin, &app, "PUMP").await;
    let (quinn, quinn_id) = app
        .user_with_roles("quinn", &["quality", "admin"], QUINN)
        .await;
    let res = quinn
        .submit(
            "/nonconformances/new",
            "/nonconformances",
            &crate::nonconformances::report_fields(
                "A long title to see it wrap on a small screen: the hinge of the housing bent",
                &pid,
                "high",
                "Found at incoming inspection",
            ),
        )
        .await;
    assert_eq!(res.status(), 303);
    {
        use attest::domain::capa::CapaState;
        use attest::seed::walk::{self, Signer};
        let mut conn = app.conn();
        let owner = walk::account(&mut conn, attest::domain::ids::UserId(quinn_id)).unwrap();
        let mut signer = Signer::open(&mut conn, owner.clone(), QUINN).unwrap();
        crate::capas::walked(
            &app,
            &mut conn,
            (&owner, &mut signer),
            quinn_id,
            "Walked",
            CapaState::Action,
        );
    }
    // A document whose body has a wide table and a long line.
    let me = quinn_id.to_string();
    let res = quinn
        .submit(
            "/documents/new",
            "/documents",
            &[
                ("title", "Incoming inspection of housings"),
                ("doc_type", "work_instruction"),
                ("owner", &me),
                ("product_id", ""),
                ("review_months", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let body = format!(
        "# Scope\n\n{}\n\n| Step | Gauge | Limit | Record | Who | Notes |\n|---|---|---|---|---|---|\n| 1 | GA-0001-calliper-long-name | 12.00 ± 0.05 mm | DHR form F-12 section 4 | inspector | {}\n",
        "Inspect every housing. ".repeat(20),
        "a long note ".repeat(8)
    );
    let draft = quinn.get_html("/documents/1/v/1").await;
    let version = draft
        .split("name=\"version\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let res = quinn
        .submit(
            "/documents/1/v/1",
            "/document-versions/1/draft",
            &[
                ("version", &version),
                ("title", "Incoming inspection of housings"),
                ("body", &body),
                ("change_reason", ""),
                ("change_summary", ""),
                ("approver", ""),
                ("effective_on", ""),
                ("training_required", "yes"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    // The document in quality's curriculum: a column of the matrix.
    let res = quinn
        .submit(
            "/training/curricula/edit?document=1",
            "/training/curricula/1",
            &[("roles", "quality"), ("roles", "engineer")],
        )
        .await;
    assert_eq!(res.status(), 303);
    // A risk file: the plan approved by quinn's signature, a draft of its
    // next version (the editor), a risk estimated on it.
    let res = quinn
        .submit("/products/1", "/products/1/risk-plan", &[])
        .await;
    assert_eq!(res.status(), 303);
    let res = quinn
        .submit(
            "/risk-plans/1",
            "/risk-plans/1/approve",
            &[("version", "1")],
        )
        .await;
    let html = res.text().await.unwrap();
    let res = SignForm::of(&html).send(&quinn, Some("quinn"), QUINN).await;
    assert_eq!(res.status(), 303);
    let res = quinn
        .submit("/products/1", "/products/1/risk-plan", &[])
        .await;
    assert_eq!(res.status(), 303);
    let res = quinn
        .submit(
            "/products/1/risks",
            "/products/1/risks",
            &[
                ("hazard", ""),
                ("sequence", "The housing cracks in a fall"),
                ("situation", "Patient touches a live part"),
                ("harm", "Electric shock"),
                ("initial_severity", "4"),
                ("initial_probability", "2"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    // A draft of the overall residual risk evaluation, its checks listed.
    let res = quinn
        .submit(
            "/products/1/risks",
            "/products/1/risk-reports",
            &[("kind", "evaluation")],
        )
        .await;
    assert_eq!(res.status(), 303);
    // A mail in the outbox (a long address, to see it wrap).
    let res = quinn
        .submit(
            "/admin/outbox",
            "/admin/outbox/test",
            &[(
                "email",
                "quality.assurance.department.long.address@example.com",
            )],
        )
        .await;
    assert_eq!(res.status(), 303);
    b.sign_in(&app.base, "quinn", QUINN).await;
    let pages = [
        "/products/1/risks",
        "/risks/1",
        "/risk-reports/1",
        "/risk-exports",
        "/notifications",
        "/notifications/settings",
        "/help/notifications",
        "/risk-plans/1",
        "/risk-plans/2",
        "/help/risk",
        "/",
        "/documents",
        "/documents/1",
        "/documents/1/v/1/print",
        "/help/documents",
        "/training",
        "/training/mine",
        "/training/curricula",
        "/training/settings",
        "/document-versions/1/quiz",
        "/help/training",
        "/capas",
        "/capas/1",
        "/nonconformances",
        "/nonconformances/1",
        "/requirements",
        "/products",
        "/products/1",
        "/traceability?product=1",
        "/traceability/exports?product=1",
        "/audit",
        "/audit?view=table",
        "/audit/record/capa/capa-1/packet",
        "/signatures",
        "/admin/users",
        "/admin/users/1",
        "/admin/repositories",
        "/admin/outbox",
        "/admin/outbox/1",
        "/account",
        "/account/tokens",
        "/help",
        "/help/using",
        "/help/traceability",
    ];
    for width in [390, 1440] {
        b.set_width(width).await;
        for page in pages {
            b.goto(&format!("{}{page}", app.base)).await;
            b.assert_fits(&format!("{page} at {width} px")).await;
        }
        b.goto(&format!("{}/", app.base)).await;
        let menu = b
            .script("return [getComputedStyle(document.querySelector('nav.nav-row')).display, getComputedStyle(document.querySelector('details.nav-menu')).display]")
            .await;
        if width == 390 {
            assert_eq!(menu, json!(["none", "block"]), "the menu folds at 390 px");
            // Chart text: 12 units drawn at the chart's shown width.
            let smallest = b
                .script("return Math.min(...[...document.querySelectorAll('svg.chart')].map(s => s.getBoundingClientRect().width / s.viewBox.baseVal.width * 12))")
                .await;
            assert!(
                smallest.as_f64().unwrap() >= 11.0,
                "chart text {smallest} px"
            );
        } else {
            assert_eq!(
                menu,
                json!(["flex", "none"]),
                "the menu is a row at 1440 px"
            );
            let tops = b
                .script("return [...document.querySelectorAll('nav.nav-row a')].map(a => a.getBoundingClientRect().top)")
                .await;
            let tops: Vec<f64> = tops
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_f64().unwrap())
                .collect();
            assert!(tops.len() >= 11, "an administrator's menu: {tops:?}");
            assert!(tops.iter().all(|t| *t == tops[0]), "one line: {tops:?}");
        }
    }
    b.quit().await;
}

/// A controlled document's life in Chromium: an engineer creates it, writes
/// the draft (Markdown), names a reviewer and an approver and sends it for
/// review; the reviewer, who opens the page from their dashboard, signs
/// Reviewed; the approver signs Approved; the version is effective at once
/// and its signatures verify; a refused draft comes back filled in.
#[tokio::test]
async fn a_document_is_written_reviewed_and_approved_in_a_real_browser() {
    let Some(b) = Driver::start().await else {
        return;
    };
    let app = spawn_app().await;
    let (_, erin) = app
        .user_with_roles("erin", &["engineer"], "copper lantern phrase 1")
        .await;
    let (_, rita) = app
        .user_with_roles("rita", &["engineer"], "silver meadow phrase 2")
        .await;
    let (_, quinn) = app.user_with_roles("quinn", &["quality"], QUINN).await;
    b.sign_in(&app.base, "erin", "copper lantern phrase 1")
        .await;
    b.goto(&format!("{}/documents", app.base)).await;
    b.click("a.button.primary").await;
    b.wait_for_path("/documents/new").await;
    b.type_into("#title", "Cleaning of the moulding line").await;
    b.set_value("#doc_type", "sop").await;
    b.click("form button.primary").await;
    b.wait_for_text("DOC-1 created with v1 as a draft").await;
    assert_eq!(b.path().await, "/documents/1/v/1#content");
    // The draft, with a body over the limit first: refused, kept, told.
    b.open("#draft").await;
    b.set_value(
        "#draft-body",
        &format!("# Purpose\n\n{}", "x".repeat(200_001)),
    )
    .await;
    b.set_value("#draft-approver", &quinn.to_string()).await;
    b.click("#draft button.primary").await;
    b.wait_for_text("The body can have at most 200 KB").await;
    assert!(
        b.in_view("#draft-problems").await,
        "the summary is scrolled to"
    );
    let kept = b
        .script("return document.querySelector('#draft-body').value.length")
        .await;
    assert!(kept.as_u64().unwrap() > 200_000, "the typed body is kept");
    b.set_value(
        "#draft-body",
        "# Purpose\n\nKeep the line clean.\n\n| Step | Who |\n|---|---|\n| Dry 10 minutes | operator |\n",
    )
    .await;
    b.script(&format!(
        "document.querySelector('#draft-reviewers option[value=\"{rita}\"]').selected = true; return null"
    ))
    .await;
    b.set_value("#draft-approver", &quinn.to_string()).await;
    b.click("#draft button.primary").await;
    b.wait_for_text("DOC-1 v1 saved.").await;
    b.click("form#step-submit_review button").await;
    let text = b.wait_for_text("DOC-1 v1 is now in review.").await;
    assert!(text.contains("Waiting on"), "{text}");
    b.sign_out().await;

    // The reviewer: from "What needs me" to the signing form.
    b.sign_in(&app.base, "rita", "silver meadow phrase 2").await;
    let dashboard = b.wait_for_text("DOC-1 v1").await;
    assert!(dashboard.contains("sign Reviewed"), "{dashboard}");
    b.goto(&format!("{}/documents/1/v/1", app.base)).await;
    let page = b.text().await;
    assert!(
        page.contains("Purpose") && page.contains("Dry 10 minutes"),
        "{page}"
    );
    b.click("form#step-review button").await;
    let form = b.wait_for_text("Sign: Sign as reviewed of DOC-1 v1").await;
    assert!(
        form.contains("Keep the line clean."),
        "the signer sees the body"
    );
    b.type_into("#signature_username", "rita").await;
    b.type_into("#signature_password", "silver meadow phrase 2")
        .await;
    b.click("form button.primary").await;
    b.wait_for_text("Reviewed by rita Person (rita)").await;
    b.sign_out().await;

    // The approver.
    b.sign_in(&app.base, "quinn", QUINN).await;
    b.goto(&format!("{}/documents/1/v/1", app.base)).await;
    b.click("form#step-approve button").await;
    b.wait_for_text("Sign: Approve of DOC-1 v1").await;
    b.type_into("#signature_username", "quinn").await;
    b.type_into("#signature_password", QUINN).await;
    b.click("form button.primary").await;
    let text = b.wait_for_text("DOC-1 v1 is now effective.").await;
    assert_eq!(text.matches("✓ verified").count(), 2, "{text}");
    assert!(text.contains("since"), "{text}");
    let current = b
        .script("return document.querySelector('.stepper li[aria-current]').textContent")
        .await;
    assert!(current.as_str().unwrap().contains("Effective"), "{current}");
    let _ = erin;
    b.quit().await;
}

#[tokio::test]
async fn a_trainee_reads_passes_the_quiz_and_signs_in_a_real_browser() {
    let Some(b) = Driver::start().await else {
        return;
    };
    let app = spawn_app().await;
    let p = crate::documents::people(&app).await;
    let (_, tess) = app
        .user_with_roles("tess", &["engineer"], "amber harbour phrase 3")
        .await;
    let doc =
        crate::documents::create(&p.author, "Torque settings", "work_instruction", p.ids[0]).await;
    let (v1, _) = crate::documents::version_of(&app, doc, 1);
    let quiz = format!("/document-versions/{v1}/quiz");
    let res = p
        .author
        .submit(
            &quiz,
            &quiz,
            &[
                ("pass_mark", "100"),
                ("q1_text", "What torque for an M4 screw?"),
                ("q1_choices", "2 Nm\n3 Nm"),
                ("q1_correct", "2"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = crate::training::curriculum(&p, doc, &[("roles", "engineer")]).await;
    assert_eq!(res.status(), 303);
    crate::training::effective(&app, &p, (doc, 1), "yes").await;

    // From "What needs me" to the version, the quiz and the signature.
    b.sign_in(&app.base, "tess", "amber harbour phrase 3").await;
    let dashboard = b.wait_for_text("Training due by").await;
    assert!(
        dashboard.contains("DOC-1 v1 Cleaning of the moulding line"),
        "{dashboard}"
    );
    b.click("ul.needs a[href^='/training/']").await;
    let page = b.wait_for_text("Send my answers").await;
    assert!(
        page.contains("Clean the line"),
        "the version is shown: {page}"
    );
    assert!(page.contains("What torque for an M4 screw?"), "{page}");
    // A wrong answer first: recorded, not passed.
    b.click("#quiz-form input[type=radio][value='0']").await;
    b.click("#quiz-form button.primary").await;
    b.wait_for_text("Not passed: 0 of 1 right").await;
    b.click("#quiz-form input[type=radio][value='1']").await;
    b.click("#quiz-form button.primary").await;
    b.wait_for_text("Passed: 1 of 1 right").await;
    b.click("form#step-acknowledge button").await;
    let form = b
        .wait_for_text("Sign: Confirm read and understood of TRN-")
        .await;
    assert!(form.contains("Version content SHA-256"), "{form}");
    b.type_into("#signature_username", "tess").await;
    b.type_into("#signature_password", "amber harbour phrase 3")
        .await;
    b.click("form button.primary").await;
    let done = b.wait_for_text("is now acknowledged.").await;
    assert!(done.contains("Read and understood"), "{done}");
    assert_eq!(done.matches("✓ verified").count(), 1, "{done}");
    let _ = tess;
    b.quit().await;
}
