//! A resolved incident's postmortem: where it stands and what staff may do
//! with it from there.
use super::ParseError;

/// Where a postmortem stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostmortemState {
    /// Nothing written yet.
    None,
    /// Saved, seen by staff alone.
    Draft,
    /// On the incident's page, in the feeds and the APIs.
    Published,
    /// Staff said this incident gets no postmortem.
    Ignored,
}

impl PostmortemState {
    /// The state a stored row says, from its two facts.
    pub fn of(published: bool, ignored: bool) -> Self {
        match (published, ignored) {
            (true, _) => Self::Published,
            (false, true) => Self::Ignored,
            (false, false) => Self::Draft,
        }
    }

    pub fn is_published(self) -> bool {
        self == Self::Published
    }
}

/// What staff ask of a postmortem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostmortemAction {
    /// Keep the text: a draft stays a draft, a published one is edited in place.
    Save,
    Publish,
    /// Take it off the page, back to a draft.
    Revert,
    /// "No postmortem" for this incident.
    Ignore,
}

impl PostmortemAction {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        match s.trim() {
            "save" => Ok(Self::Save),
            "publish" => Ok(Self::Publish),
            "revert" => Ok(Self::Revert),
            "ignore" => Ok(Self::Ignore),
            other => Err(ParseError::new(format!(
                "Unknown action \"{other}\": save, publish, revert or ignore."
            ))),
        }
    }

    /// Whether the action needs the text to be a postmortem (not empty):
    /// marking "no postmortem" keeps whatever draft there is, even none.
    pub fn needs_body(self) -> bool {
        self != Self::Ignore
    }

    /// Where the postmortem stands after the action, or why the action
    /// cannot be taken from `from`.
    pub fn after(self, from: PostmortemState) -> Result<PostmortemState, ParseError> {
        use PostmortemState as S;
        match (self, from) {
            (Self::Save, S::Published) => Ok(S::Published),
            (Self::Save, _) => Ok(S::Draft),
            (Self::Publish, _) => Ok(S::Published),
            (Self::Revert, S::Published) => Ok(S::Draft),
            (Self::Revert, _) => Err(ParseError::new("The postmortem is not published.")),
            (Self::Ignore, S::Published) => Err(ParseError::new(
                "The postmortem is published: revert it to a draft first.",
            )),
            (Self::Ignore, _) => Ok(S::Ignored),
        }
    }
}

/// Whether publishing now tells subscribers: only when staff ask, and only
/// the first time. Publishing again after a revert, or saving an edit,
/// never tells anyone again.
pub fn notifies(
    action: PostmortemAction,
    from: PostmortemState,
    asked: bool,
    told_before: bool,
) -> bool {
    action == PostmortemAction::Publish && !from.is_published() && asked && !told_before
}

#[cfg(test)]
mod tests {
    use super::*;
    use PostmortemAction as A;
    use PostmortemState as S;

    #[test]
    fn actions_move_the_state_or_say_why_not() {
        assert_eq!(A::Save.after(S::None), Ok(S::Draft));
        assert_eq!(A::Save.after(S::Ignored), Ok(S::Draft));
        assert_eq!(A::Save.after(S::Published), Ok(S::Published));
        assert_eq!(A::Publish.after(S::Draft), Ok(S::Published));
        assert_eq!(A::Revert.after(S::Published), Ok(S::Draft));
        assert!(A::Revert.after(S::Draft).is_err());
        assert!(A::Ignore.after(S::Published).is_err());
        assert_eq!(A::Ignore.after(S::Draft), Ok(S::Ignored));
        assert_eq!(A::parse("publish"), Ok(A::Publish));
        assert!(A::parse("delete").is_err());
    }

    #[test]
    fn only_a_first_publish_that_asks_notifies() {
        assert!(notifies(A::Publish, S::Draft, true, false));
        assert!(!notifies(A::Publish, S::Draft, false, false));
        assert!(
            !notifies(A::Publish, S::Draft, true, true),
            "after a revert"
        );
        assert!(!notifies(A::Publish, S::Published, true, false), "twice");
        assert!(!notifies(A::Save, S::Published, true, false), "an edit");
    }
}
