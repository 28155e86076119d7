//! Spec errors with labelled source spans, rendered as rustc renders them.
//!
//! The front end never stops at the first error: it collects every
//! [`Diagnostic`] it can and the caller renders them all.

use crate::span::{Source, Span};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub message: String,
    /// The first label is the primary one: its span gives file:line:col.
    pub labels: Vec<Label>,
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn error(span: Span, message: impl Into<String>) -> Diagnostic {
        let message = message.into();
        Diagnostic {
            labels: vec![Label { span, message: String::new() }],
            message,
            notes: Vec::new(),
        }
    }

    /// Sets the primary label's text.
    pub fn label(mut self, text: impl Into<String>) -> Diagnostic {
        if let Some(first) = self.labels.first_mut() {
            first.message = text.into();
        }
        self
    }

    pub fn secondary(mut self, span: Span, text: impl Into<String>) -> Diagnostic {
        self.labels.push(Label { span, message: text.into() });
        self
    }

    pub fn note(mut self, text: impl Into<String>) -> Diagnostic {
        self.notes.push(text.into());
        self
    }

    pub fn primary_span(&self) -> Span {
        self.labels.first().map(|l| l.span).unwrap_or_default()
    }

    /// Renders the diagnostic with the source line and a marker under the
    /// span; `color` only when writing to a terminal.
    pub fn render(&self, source: &Source, color: bool) -> String {
        use ariadne::{Config, IndexType, Label as ALabel, Report, ReportKind};
        let name = source.name.as_str();
        let primary = self.primary_span();
        let mut report = Report::build(ReportKind::Error, (name, primary.range()))
            .with_config(
                Config::default()
                    .with_color(color)
                    .with_index_type(IndexType::Byte),
            )
            .with_message(format!("{} ({})", self.message, source.location(primary)));
        for label in &self.labels {
            let mut l = ALabel::new((name, clamp(label.span, source).range()));
            if !label.message.is_empty() {
                l = l.with_message(&label.message);
            }
            report = report.with_label(l);
        }
        for note in &self.notes {
            report = report.with_note(note);
        }
        let mut out = Vec::new();
        let cache = (name, ariadne::Source::from(source.text.as_str()));
        if report.finish().write(cache, &mut out).is_err() {
            return format!("error: {} at {}\n", self.message, source.location(primary));
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

fn clamp(span: Span, source: &Source) -> Span {
    let len = source.text.len() as u32;
    Span {
        start: span.start.min(len),
        end: span.end.min(len).max(span.start.min(len)),
    }
}

/// Renders every diagnostic, in source order.
pub fn render_all(diagnostics: &[Diagnostic], source: &Source, color: bool) -> String {
    let mut sorted: Vec<&Diagnostic> = diagnostics.iter().collect();
    sorted.sort_by_key(|d| d.primary_span().start);
    sorted.iter().map(|d| d.render(source, color)).collect()
}
