//! Redlines: what changed between two versions of a document, word by word
//! (the `similar` crate's diff of Unicode words), with a summary a reviewer
//! reads first. Pure: two texts in, the marked-up changes out.

use similar::{ChangeTag, TextDiff};

/// A run of text that is the same in both, only in the old, or only in the new.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    Same,
    Removed,
    Added,
}

/// One run of the redline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    pub mark: Mark,
    pub text: String,
}

/// One line of the side-by-side view: the old line's runs and the new's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SideLine {
    pub old: Vec<Run>,
    pub new: Vec<Run>,
    pub changed: bool,
}

/// What changed, in numbers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub words_added: usize,
    pub words_removed: usize,
    pub lines_changed: usize,
    pub lines_added: usize,
    pub lines_removed: usize,
}

impl Summary {
    /// In a reviewer's words ("12 words added, 3 removed in 4 changed lines").
    pub fn words(&self) -> String {
        if self.words_added + self.words_removed == 0 {
            return "No change to the text.".into();
        }
        format!(
            "{} {} added, {} removed; {} {} changed, {} added, {} removed.",
            self.words_added,
            plural(self.words_added, "word", "words"),
            self.words_removed,
            self.lines_changed,
            plural(self.lines_changed, "line", "lines"),
            self.lines_added,
            self.lines_removed
        )
    }
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// The redline of `old` to `new`: inline runs, side-by-side lines, summary.
pub struct Redline {
    pub inline: Vec<Run>,
    pub side: Vec<SideLine>,
    pub summary: Summary,
}

fn push(runs: &mut Vec<Run>, mark: Mark, text: &str) {
    match runs.last_mut() {
        Some(last) if last.mark == mark => last.text.push_str(text),
        _ => runs.push(Run {
            mark,
            text: text.to_string(),
        }),
    }
}

fn counts_as_word(s: &str) -> bool {
    s.chars().any(char::is_alphanumeric)
}

/// Compares `old` with `new` word by word, and line by line for the side view.
pub fn compare(old: &str, new: &str) -> Redline {
    let mut summary = Summary::default();
    let words = TextDiff::configure()
        .timeout(std::time::Duration::from_secs(2))
        .diff_unicode_words(old, new);
    let mut inline = Vec::new();
    for change in words.iter_all_changes() {
        let text = change.value();
        let mark = match change.tag() {
            ChangeTag::Equal => Mark::Same,
            ChangeTag::Delete => {
                summary.words_removed += usize::from(counts_as_word(text));
                Mark::Removed
            }
            ChangeTag::Insert => {
                summary.words_added += usize::from(counts_as_word(text));
                Mark::Added
            }
        };
        push(&mut inline, mark, text);
    }
    let lines = TextDiff::configure()
        .timeout(std::time::Duration::from_secs(2))
        .diff_lines(old, new);
    let mut side = Vec::new();
    for op in lines.ops() {
        let (tag, old_range, new_range) = op.as_tag_tuple();
        let old_lines: Vec<&str> = lines.old_slices()[old_range].to_vec();
        let new_lines: Vec<&str> = lines.new_slices()[new_range].to_vec();
        match tag {
            similar::DiffTag::Equal => side.extend(old_lines.iter().map(|l| SideLine {
                old: vec![same(l)],
                new: vec![same(l)],
                changed: false,
            })),
            _ => {
                let n = old_lines.len().max(new_lines.len());
                summary.lines_changed += old_lines.len().min(new_lines.len());
                summary.lines_added += new_lines.len().saturating_sub(old_lines.len());
                summary.lines_removed += old_lines.len().saturating_sub(new_lines.len());
                for i in 0..n {
                    let (o, w) = (old_lines.get(i).copied(), new_lines.get(i).copied());
                    side.push(side_line(o.unwrap_or(""), w.unwrap_or("")));
                }
            }
        }
    }
    Redline {
        inline,
        side,
        summary,
    }
}

fn same(line: &str) -> Run {
    Run {
        mark: Mark::Same,
        text: line.trim_end_matches('\n').to_string(),
    }
}

/// A changed line pair, marked word by word on each side.
fn side_line(old: &str, new: &str) -> SideLine {
    let diff = TextDiff::from_unicode_words(old.trim_end_matches('\n'), new.trim_end_matches('\n'));
    let mut line = SideLine {
        changed: true,
        ..SideLine::default()
    };
    for change in diff.iter_all_changes() {
        match change.tag() {
            ChangeTag::Equal => {
                push(&mut line.old, Mark::Same, change.value());
                push(&mut line.new, Mark::Same, change.value());
            }
            ChangeTag::Delete => push(&mut line.old, Mark::Removed, change.value()),
            ChangeTag::Insert => push(&mut line.new, Mark::Added, change.value()),
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(runs: &[Run]) -> String {
        runs.iter()
            .map(|r| match r.mark {
                Mark::Same => r.text.clone(),
                Mark::Removed => format!("[-{}-]", r.text),
                Mark::Added => format!("{{+{}+}}", r.text),
            })
            .collect()
    }

    #[test]
    fn a_changed_word_is_struck_and_its_replacement_marked() {
        let r = compare(
            "Dry the mould for 10 minutes.\nLog it.\n",
            "Dry the mould for 15 minutes at 60 °C.\nLog it.\n",
        );
        assert_eq!(
            marked(&r.inline),
            "Dry the mould for [-10-]{+15+} minutes{+ at 60 °C+}.\nLog it.\n"
        );
        assert_eq!(r.summary.words_added, 4, "15, at, 60, °C");
        assert_eq!(r.summary.words_removed, 1);
        assert_eq!(r.summary.lines_changed, 1);
        assert_eq!(r.side.len(), 2);
        assert!(r.side[0].changed && !r.side[1].changed);
        assert_eq!(marked(&r.side[0].old), "Dry the mould for [-10-] minutes.");
        assert_eq!(
            r.summary.words(),
            "4 words added, 1 removed; 1 line changed, 0 added, 0 removed."
        );
    }

    #[test]
    fn added_and_removed_lines_are_counted_and_identical_texts_say_so() {
        let r = compare("a\nb\n", "a\nb\nc\nd\n");
        assert_eq!((r.summary.lines_added, r.summary.lines_removed), (2, 0));
        assert_eq!(
            compare("same\n", "same\n").summary.words(),
            "No change to the text."
        );
    }
}
