//! What resolving an incident does to the components it affected.
use super::ComponentStatus;

/// The component changes an update makes once it leaves its incident
/// resolved: what staff set in the update stands, and every other component
/// the incident affected that is not operational returns to operational, so
/// the page stops saying something is wrong when nothing is open. `affected`
/// is each affected component with its status now.
pub fn changes_on_resolve(
    chosen: Vec<(i32, ComponentStatus)>,
    affected: impl IntoIterator<Item = (i32, ComponentStatus)>,
) -> Vec<(i32, ComponentStatus)> {
    let mut out = chosen;
    for (id, now) in affected {
        if now != ComponentStatus::Operational && !out.iter().any(|(c, _)| *c == id) {
            out.push((id, ComponentStatus::Operational));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ComponentStatus::*;

    #[test]
    fn what_staff_leave_alone_returns_to_operational_and_what_they_set_stands() {
        let affected = [
            (1, PartialOutage),
            (2, DegradedPerformance),
            (3, Operational),
        ];
        assert_eq!(
            changes_on_resolve(vec![(2, DegradedPerformance), (9, MajorOutage)], affected),
            vec![(2, DegradedPerformance), (9, MajorOutage), (1, Operational)]
        );
        // Nothing affected, nothing added; an operational component is no change.
        assert_eq!(changes_on_resolve(vec![], []), vec![]);
        assert_eq!(changes_on_resolve(vec![], [(3, Operational)]), vec![]);
    }
}
