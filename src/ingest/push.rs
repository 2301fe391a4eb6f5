//! Push events of GitHub and GitLab, read into one shape. Only what Attest
//! keeps is read; unknown members are ignored (the providers add them), and
//! every kept value is checked.

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// Most commits one push may carry.
pub const MAX_COMMITS: usize = 10_000;
/// Longest commit message kept, in bytes.
pub const MAX_MESSAGE: usize = 65_536;

/// A push, as both providers describe it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Push {
    /// `owner/name` (GitHub) or `group/project` (GitLab).
    pub repository: String,
    /// `refs/heads/main` or `refs/tags/v1.2`.
    pub git_ref: String,
    /// The commit the ref now points at.
    pub head: String,
    pub commits: Vec<PushedCommit>,
}

impl Push {
    /// The tag name when the push created or moved a tag (not when it
    /// deleted one).
    pub fn tag(&self) -> Option<&str> {
        if self.deleted() {
            return None;
        }
        self.git_ref.strip_prefix("refs/tags/")
    }

    /// The push deleted its ref: both providers then name the all-zero commit.
    pub fn deleted(&self) -> bool {
        self.head.bytes().all(|b| b == b'0')
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushedCommit {
    pub sha: String,
    pub message: String,
    pub at: DateTime<Utc>,
    pub url: String,
    pub author_name: String,
    pub author_email: String,
}

#[derive(Deserialize)]
struct Author {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
}

#[derive(Deserialize)]
struct RawCommit {
    id: String,
    #[serde(default)]
    message: String,
    timestamp: String,
    #[serde(default)]
    url: String,
    author: Author,
}

#[derive(Deserialize)]
struct GithubRepo {
    full_name: String,
}

#[derive(Deserialize)]
struct GithubPush {
    #[serde(rename = "ref")]
    git_ref: String,
    after: String,
    repository: GithubRepo,
    #[serde(default)]
    commits: Vec<RawCommit>,
}

#[derive(Deserialize)]
struct GitlabProject {
    path_with_namespace: String,
}

#[derive(Deserialize)]
struct GitlabPush {
    #[serde(rename = "ref")]
    git_ref: String,
    #[serde(default)]
    checkout_sha: Option<String>,
    #[serde(default)]
    after: Option<String>,
    project: GitlabProject,
    #[serde(default)]
    commits: Vec<RawCommit>,
}

fn sha(s: &str) -> Result<String, String> {
    let ok = (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(format!("{:?} is not a commit id", clip(s, 80)))
    }
}

fn clip(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

fn text(s: String, max: usize, what: &str) -> Result<String, String> {
    if s.len() > max {
        Err(format!("a commit's {what} is longer than {max} bytes"))
    } else {
        Ok(s)
    }
}

fn commits(raw: Vec<RawCommit>) -> Result<Vec<PushedCommit>, String> {
    if raw.len() > MAX_COMMITS {
        return Err(format!("a push may carry at most {MAX_COMMITS} commits"));
    }
    raw.into_iter()
        .map(|c| {
            let at = DateTime::parse_from_rfc3339(&c.timestamp)
                .map_err(|_| format!("{:?} is not a time (RFC 3339)", clip(&c.timestamp, 80)))?
                .with_timezone(&Utc);
            Ok(PushedCommit {
                sha: sha(&c.id)?,
                message: text(c.message, MAX_MESSAGE, "message")?,
                at,
                url: text(c.url, 2_000, "URL")?,
                author_name: text(c.author.name, 500, "author name")?,
                author_email: text(c.author.email, 500, "author e-mail")?,
            })
        })
        .collect()
}

fn json_error(e: &serde_json::Error) -> String {
    format!(
        "the body is not a push event: {e} (line {}, column {})",
        e.line(),
        e.column()
    )
}

/// A GitHub `push` event body.
pub fn github(body: &[u8]) -> Result<Push, String> {
    let p: GithubPush = serde_json::from_slice(body).map_err(|e| json_error(&e))?;
    Ok(Push {
        repository: p.repository.full_name,
        git_ref: p.git_ref,
        head: sha(&p.after)?,
        commits: commits(p.commits)?,
    })
}

/// A GitLab `Push Hook` or `Tag Push Hook` body.
pub fn gitlab(body: &[u8]) -> Result<Push, String> {
    let p: GitlabPush = serde_json::from_slice(body).map_err(|e| json_error(&e))?;
    let head = p
        .checkout_sha
        .or(p.after)
        .ok_or_else(|| "the push names no commit (checkout_sha)".to_string())?;
    Ok(Push {
        repository: p.project.path_with_namespace,
        git_ref: p.git_ref,
        head: sha(&head)?,
        commits: commits(p.commits)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "9fceb02d0ae598e95dc970b74767f19372d61af8";

    #[test]
    fn a_github_push_is_read_with_its_commits_in_utc() {
        let body = format!(
            r#"{{"ref":"refs/heads/main","after":"{SHA}","repository":{{"full_name":"acme/pump-fw","id":1}},
            "commits":[{{"id":"{SHA}","message":"Lock keypad\n\nImplements: SRS-012","timestamp":"2026-11-30T10:00:00+01:00",
            "url":"https://github.com/acme/pump-fw/commit/{SHA}","author":{{"name":"Ellen","email":"ellen@example.com","username":"ellen"}},"added":[]}}],
            "pusher":{{"name":"ellen"}}}}"#
        );
        let p = github(body.as_bytes()).unwrap();
        assert_eq!(p.repository, "acme/pump-fw");
        assert_eq!(p.commits[0].at.to_rfc3339(), "2026-11-30T09:00:00+00:00");
        assert_eq!(p.tag(), None);
    }

    #[test]
    fn a_gitlab_tag_push_names_its_tag_and_bad_bodies_say_why() {
        let body = format!(
            r#"{{"object_kind":"tag_push","ref":"refs/tags/v1.2","checkout_sha":"{SHA}","project":{{"path_with_namespace":"acme/pump"}},"commits":[]}}"#
        );
        assert_eq!(gitlab(body.as_bytes()).unwrap().tag(), Some("v1.2"));
        let deleted = format!(
            r#"{{"object_kind":"tag_push","ref":"refs/tags/v1.2","checkout_sha":null,"after":"{}","project":{{"path_with_namespace":"acme/pump"}},"commits":[]}}"#,
            "0".repeat(40)
        );
        assert_eq!(
            gitlab(deleted.as_bytes()).unwrap().tag(),
            None,
            "a deleted tag is no release"
        );
        let err = github(b"{\"ref\": 1}").unwrap_err();
        assert!(err.contains("line 1, column"), "{err}");
        let nested = "[".repeat(10_000);
        assert!(
            github(nested.as_bytes()).is_err(),
            "too deep, no stack overflow"
        );
        let bad_sha = r#"{"ref":"r","after":"nope","repository":{"full_name":"a/b"}}"#;
        assert!(
            github(bad_sha.as_bytes())
                .unwrap_err()
                .contains("is not a commit id")
        );
        let bad_time = format!(
            r#"{{"ref":"r","after":"{SHA}","repository":{{"full_name":"a/b"}},"commits":[{{"id":"{SHA}","timestamp":"yesterday","author":{{}}}}]}}"#
        );
        assert!(
            github(bad_time.as_bytes())
                .unwrap_err()
                .contains("is not a time")
        );
    }
}
