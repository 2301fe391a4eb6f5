//! The mails Attest writes, from templates/email/ (text and HTML): a
//! subject with the record's key and what is needed, the line the in-app
//! notification reads and a link to the exact place; nothing about the
//! record beyond its key.

use askama::Template;

use super::Letter;

#[derive(Template)]
#[template(path = "email/notification.txt")]
struct NotificationText<'a> {
    name: &'a str,
    line: &'a str,
    link: &'a str,
    base: &'a str,
}

#[derive(Template)]
#[template(path = "email/notification.html")]
struct NotificationHtml<'a> {
    name: &'a str,
    line: &'a str,
    link: &'a str,
    base: &'a str,
}

#[derive(Template)]
#[template(path = "email/test.txt")]
struct TestText<'a> {
    by: &'a str,
    base: &'a str,
}

#[derive(Template)]
#[template(path = "email/test.html")]
struct TestHtml<'a> {
    by: &'a str,
    base: &'a str,
}

/// A line of a digest and where it opens.
pub struct Item {
    pub line: String,
    pub link: String,
}

#[derive(Template)]
#[template(path = "email/digest.txt")]
struct DigestText<'a> {
    name: &'a str,
    every: &'a str,
    new: &'a [Item],
    overdue: &'a [Item],
    soon: &'a [Item],
    base: &'a str,
}

#[derive(Template)]
#[template(path = "email/digest.html")]
struct DigestHtml<'a> {
    name: &'a str,
    every: &'a str,
    new: &'a [Item],
    overdue: &'a [Item],
    soon: &'a [Item],
    base: &'a str,
}

/// What a digest says: the notifications held for it, the person's overdue
/// duties and those due in the next 7 days.
pub struct Digest<'a> {
    pub to: &'a str,
    pub name: &'a str,
    /// "daily" or "weekly".
    pub every: &'a str,
    pub new: Vec<Item>,
    pub overdue: Vec<Item>,
    pub soon: Vec<Item>,
}

/// The mail of a digest.
pub fn digest(d: &Digest<'_>, base: &str) -> Result<Letter, askama::Error> {
    let (name, every) = (d.name, d.every);
    let (new, overdue, soon) = (d.new.as_slice(), d.overdue.as_slice(), d.soon.as_slice());
    Ok(Letter {
        to: d.to.to_string(),
        subject: format!(
            "Your Attest digest: {} new, {} overdue, {} due soon",
            new.len(),
            overdue.len(),
            soon.len()
        ),
        text: DigestText {
            name,
            every,
            new,
            overdue,
            soon,
            base,
        }
        .render()?,
        html: DigestHtml {
            name,
            every,
            new,
            overdue,
            soon,
            base,
        }
        .render()?,
    })
}

/// What a notification mail says.
pub struct NotificationMail<'a> {
    pub to: &'a str,
    /// The person's printed name.
    pub name: &'a str,
    pub subject: &'a str,
    /// The in-app notification's line.
    pub line: &'a str,
    /// The place it opens, from the site's root (`/capas/12#next`).
    pub href: &'a str,
}

/// The mail of a notification; `base` is the site's address
/// (`https://qms.example.com`).
pub fn notification(m: &NotificationMail<'_>, base: &str) -> Result<Letter, askama::Error> {
    let link = format!("{base}{}", m.href);
    let (name, line, link) = (m.name, m.line, link.as_str());
    Ok(Letter {
        to: m.to.to_string(),
        subject: m.subject.to_string(),
        text: NotificationText {
            name,
            line,
            link,
            base,
        }
        .render()?,
        html: NotificationHtml {
            name,
            line,
            link,
            base,
        }
        .render()?,
    })
}

/// The test mail an administrator sends from the outbox page.
pub fn test(to: &str, by: &str, base: &str) -> Result<Letter, askama::Error> {
    Ok(Letter {
        to: to.to_string(),
        subject: "A test mail from Attest".to_string(),
        text: TestText { by, base }.render()?,
        html: TestHtml { by, base }.render()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notification_mail_links_to_the_exact_place_and_escapes_its_html() {
        let l = notification(
            &NotificationMail {
                to: "jane@example.com",
                name: "Jane <Doe>",
                subject: "CAPA-12: your signature is requested (Approved: effective)",
                line: "CAPA-12: a signature is needed (Approved: effective) for “Close as effective”",
                href: "/capas/12#next",
            },
            "https://qms.example.com",
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        assert!(
            l.text
                .contains("Open it: https://qms.example.com/capas/12#next"),
            "{}",
            l.text
        );
        assert!(l.text.starts_with("Jane <Doe>,"), "{}", l.text);
        assert!(
            l.html
                .contains("href=\"https://qms.example.com/capas/12#next\""),
            "{}",
            l.html
        );
        assert!(
            l.html.contains("Jane &#60;Doe&#62;") || l.html.contains("Jane &lt;Doe&gt;"),
            "{}",
            l.html
        );
    }
}
