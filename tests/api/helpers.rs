//! Spawns the real application on port 0 with a fresh database (SQLite in a
//! temporary directory, or a new PostgreSQL database on the server named by
//! ATTEST_TEST_DATABASE_URL) and drives it over HTTP like a browser.

use attest::config::Settings;
use attest::db::{DbPool, DbTarget};
use attest::startup::Application;
use diesel::prelude::*;
use reqwest::redirect::Policy;
use secrecy::SecretString;
use serde_json::Value;

pub const ADMIN_PASSWORD: &str = "admin password for tests";

pub struct TestApp {
    pub base: String,
    pub port: u16,
    pub pool: DbPool,
    pub log_origin: String,
    pub database: DbTarget,
    /// The application's clock: `app.clock.advance(..)` is time passing.
    pub clock: attest::clock::Clock,
    /// Its scheduled jobs (`app.scheduler.run_named("sign_checkpoint")`).
    pub scheduler: std::sync::Arc<attest::jobs::Scheduler>,
    _dir: tempfile::TempDir,
}

/// The database an app uses, for starting a second instance on it.
pub fn first_database(app: &TestApp) -> DbTarget {
    app.database.clone()
}

/// True when the suite runs against PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("ATTEST_TEST_DATABASE_URL").is_ok_and(|v| !v.is_empty())
}

/// A new, empty PostgreSQL database on the test server.
pub fn fresh_postgres_database(server_url: &str) -> String {
    let mut conn =
        PgConnection::establish(server_url).expect("ATTEST_TEST_DATABASE_URL must be reachable");
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).expect("random");
    let name = format!("attest_t_{}", hex::encode(b));
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .expect("CREATE DATABASE");
    // Replace the database name in the URL, keeping any query string.
    let (head, query) = match server_url.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (server_url, None),
    };
    let after_scheme = head.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match head[after_scheme..].find('/') {
        Some(i) => &head[..after_scheme + i],
        None => head,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// Test settings: port 0, a fresh database, a known administrator password.
pub fn test_settings(dir: &std::path::Path) -> Settings {
    let mut s = Settings::defaults(dir);
    s.bind = "127.0.0.1:0".parse().unwrap();
    s.admin_password = Some(SecretString::from(ADMIN_PASSWORD));
    s.log_origin = Some("test.attest.local/audit".into());
    s.workers = Some(2);
    s.db_pool_size = 4;
    s.login_rate_per_minute = 100_000;
    if let Ok(url) = std::env::var("ATTEST_TEST_DATABASE_URL")
        && !url.is_empty()
    {
        s.database = DbTarget::Postgres(fresh_postgres_database(&url));
    }
    s
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    adjust(&mut settings);
    start(settings, dir).await
}

pub async fn start(settings: Settings, dir: tempfile::TempDir) -> TestApp {
    let app = Application::build(settings)
        .await
        .expect("the application starts");
    run(app, dir)
}

/// A second instance serving `first`'s database with its log key, as two
/// servers behind one load balancer would.
pub async fn second_instance(first: &TestApp) -> TestApp {
    second_instance_with(first, |_| {}).await
}

/// [`second_instance`] with its settings adjusted.
pub async fn second_instance_with(first: &TestApp, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    settings.database = first_database(first);
    settings.log_key_file = Some(first.data_dir().join("log-key"));
    adjust(&mut settings);
    start(settings, dir).await
}

/// Runs a built application in the background.
pub fn run(app: Application, dir: tempfile::TempDir) -> TestApp {
    let port = app.port();
    let pool = app.pool.clone();
    let log_origin = app.log_origin.clone();
    let database = app.database.clone();
    let clock = app.clock();
    let scheduler = app.scheduler();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        base: format!("http://127.0.0.1:{port}"),
        port,
        pool,
        log_origin,
        database,
        clock,
        scheduler,
        _dir: dir,
    }
}

/// A browser: its own cookie jar, no automatic redirects.
pub struct Browser {
    pub client: reqwest::Client,
    pub jar: std::sync::Arc<reqwest::cookie::Jar>,
    pub base: String,
}

impl TestApp {
    /// `GET path` of the JSON API with `token`: the status and the body.
    pub async fn api_get(&self, path: &str, token: &str) -> (u16, serde_json::Value) {
        let res = reqwest::Client::new()
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap())
    }

    pub fn browser(&self) -> Browser {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        Browser {
            client: reqwest::Client::builder()
                .cookie_provider(jar.clone())
                .redirect(Policy::none())
                .build()
                .unwrap(),
            jar,
            base: self.base.clone(),
        }
    }

    /// A browser signed in as the administrator.
    pub async fn admin(&self) -> Browser {
        let b = self.browser();
        let res = b.login("admin", ADMIN_PASSWORD).await;
        assert_eq!(res.status(), 303, "admin sign-in");
        b
    }

    /// Creates a user through the admin UI, has them set their own password,
    /// and returns their signed-in browser and user number.
    pub async fn user_with_roles(
        &self,
        username: &str,
        roles: &[&str],
        password: &str,
    ) -> (Browser, i64) {
        let admin = self.admin().await;
        let otp = admin
            .create_user(username, &format!("{username} Person"), roles)
            .await;
        let b = self.browser();
        assert_eq!(b.login(username, &otp).await.status(), 303);
        let res = b
            .submit(
                "/account/password",
                "/account/password",
                &[
                    ("current_password", &otp),
                    ("new_password", password),
                    ("confirm_password", password),
                ],
            )
            .await;
        assert_eq!(res.status(), 303, "password change");
        let id = self.user_id(username);
        (b, id)
    }

    /// The data directory (the log key, the checkpoint file).
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    pub fn conn(&self) -> attest::db::PooledConn {
        self.pool.get().unwrap()
    }

    pub fn user_id(&self, username: &str) -> i64 {
        attest::db::repo::users::find_by_username(&mut self.conn(), username)
            .unwrap()
            .unwrap()
            .id
            .0
    }

    pub fn account(&self, username: &str) -> attest::domain::user::Account {
        attest::db::repo::users::find_by_username(&mut self.conn(), username)
            .unwrap()
            .unwrap()
    }

    /// Every audit entry, parsed, in seq order.
    pub fn audit(&self) -> Vec<Value> {
        let mut conn = self.conn();
        let n = attest::audit::size(&mut conn).unwrap();
        attest::audit::entries(&mut conn, 0, n)
            .unwrap()
            .iter()
            .map(|e| e.json())
            .collect()
    }

    /// Audit entries with `action`.
    pub fn audit_of(&self, action: &str) -> Vec<Value> {
        self.audit()
            .into_iter()
            .filter(|e| e["action"] == action)
            .collect()
    }
}

/// The value of the first `csrf_token` hidden field in a page.
pub fn csrf_token(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html
        .find(marker)
        .map(|i| i + marker.len())
        .expect("page has a CSRF token");
    html[start..].split('"').next().unwrap().to_string()
}

impl Browser {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_html(&self, path: &str) -> String {
        let res = self.get(path).await;
        assert!(res.status().is_success(), "GET {path}: {}", res.status());
        res.text().await.unwrap()
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .unwrap()
    }

    /// Loads `page` for its CSRF token, then posts `fields` to `action`.
    pub async fn submit(
        &self,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let token = csrf_token(&self.get_html(page).await);
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &token));
        self.post_form(action, &all).await
    }

    pub async fn login(&self, username: &str, password: &str) -> reqwest::Response {
        self.submit(
            "/login",
            "/login",
            &[("username", username), ("password", password)],
        )
        .await
    }

    /// Creates a user via the admin form; returns the one-time password shown.
    pub async fn create_user(&self, username: &str, name: &str, roles: &[&str]) -> String {
        let email = format!("{username}@example.com");
        let role_fields: Vec<String> = roles.iter().map(|r| format!("role_{r}")).collect();
        let mut fields: Vec<(&str, &str)> = vec![
            ("username", username),
            ("full_name", name),
            ("email", &email),
        ];
        for r in &role_fields {
            fields.push((r.as_str(), "on"));
        }
        let res = self
            .submit("/admin/users/new", "/admin/users", &fields)
            .await;
        assert_eq!(res.status(), 200, "user created");
        let html = res.text().await.unwrap();
        let start = html
            .find("<p class=\"secret\"><code>")
            .expect("one-time password shown")
            + "<p class=\"secret\"><code>".len();
        html[start..].split('<').next().unwrap().to_string()
    }

    /// The value of a cookie the browser holds for the app.
    pub fn cookie(&self, name: &str) -> Option<String> {
        use reqwest::cookie::CookieStore;
        let header = self.jar.cookies(&self.base.parse().unwrap())?;
        header
            .to_str()
            .ok()?
            .split("; ")
            .find_map(|pair| pair.strip_prefix(&format!("{name}=")).map(str::to_string))
    }

    /// Plants a cookie, as an attacker or a stale tab would.
    pub fn set_cookie(&self, name: &str, value: &str) {
        self.jar.add_cookie_str(
            &format!("{name}={value}; Path=/"),
            &self.base.parse().unwrap(),
        );
    }
}

/// The secret a page shows once (a webhook secret, an API token).
pub fn shown_once(html: &str) -> String {
    html.split("<code class=\"long-secret\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("the page shows the secret once")
        .to_string()
}

impl Browser {
    /// Registers a repository of product 1 as an administrator; returns its
    /// number (from the webhook address) and its secret, shown once.
    pub async fn register_repository(&self, provider: &str, name: &str) -> (i64, String) {
        let res = self
            .submit(
                "/admin/repositories",
                "/admin/repositories",
                &[("provider", provider), ("name", name), ("product_id", "1")],
            )
            .await;
        assert_eq!(res.status(), 200, "repository registered");
        let html = res.text().await.unwrap();
        let id = html
            .split("?repository=")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .and_then(|n| n.parse().ok())
            .expect("the webhook address names the repository");
        (id, shown_once(&html))
    }

    /// Makes an API token on My account; returns it as shown once.
    pub async fn api_token(&self, name: &str, scopes: &[&str]) -> String {
        let mut f = vec![("name", name)];
        for s in scopes {
            f.push(("scope", s));
        }
        let res = self.submit("/account/tokens", "/account/tokens", &f).await;
        assert_eq!(res.status(), 200, "token made");
        shown_once(&res.text().await.unwrap())
    }
}

/// Asserts an answer's status and that its body says `words`; the body.
pub async fn answers(res: reqwest::Response, status: u16, words: &str) -> String {
    assert_eq!(res.status(), status);
    let body = res.text().await.unwrap();
    assert!(body.contains(words), "{words:?} not in {body}");
    body
}

/// Undoes askama's HTML escaping of an attribute value.
pub fn unescape_html(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// A signing form as a browser holds it: where it posts, and its hidden
/// fields (the step's values, the version, what was shown, the CSRF token).
#[derive(Clone, Debug)]
pub struct SignForm {
    pub action: String,
    pub fields: Vec<(String, String)>,
}

impl SignForm {
    /// Reads the signing form out of a page (panics if there is none).
    pub fn of(html: &str) -> Self {
        let form = html
            .split("<form method=\"post\" action=\"")
            .find(|f| f.contains("name=\"signature_password\""))
            .expect("the page has a signing form");
        let action = unescape_html(form.split('"').next().unwrap());
        let body = form.split("</form>").next().unwrap();
        let fields = body
            .split("<input type=\"hidden\" name=\"")
            .skip(1)
            .map(|f| {
                let name = f.split('"').next().unwrap().to_string();
                let value = f
                    .split("value=\"")
                    .nth(1)
                    .and_then(|v| v.split('"').next())
                    .unwrap_or_default();
                (name, unescape_html(value))
            })
            .collect();
        Self { action, fields }
    }

    /// The value of a hidden field.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The same form with one hidden field's value changed, as a crafted
    /// request would send it.
    pub fn with(&self, name: &str, value: &str) -> Self {
        let mut f = self.clone();
        for (k, v) in &mut f.fields {
            if k == name {
                *v = value.to_string();
            }
        }
        f
    }

    /// The same form sent to another address.
    pub fn to(&self, action: &str) -> Self {
        let mut f = self.clone();
        f.action = action.to_string();
        f
    }

    /// Sends it with the signature components typed in.
    pub async fn send(
        &self,
        b: &Browser,
        username: Option<&str>,
        password: &str,
    ) -> reqwest::Response {
        let mut all: Vec<(&str, &str)> = self
            .fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        if let Some(u) = username {
            all.push(("signature_username", u));
        }
        all.push(("signature_password", password));
        b.post_form(&self.action, &all).await
    }
}
