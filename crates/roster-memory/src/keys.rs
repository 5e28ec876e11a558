//! Helpers for ordered index keys: the smallest and largest ids (to open ranges on compound keys),
//! keyset cursors, and stable ranks for enums that have no ordering of their own.

use std::collections::BTreeSet;
use std::ops::Bound;
use std::str::FromStr;

use roster::{DeliveryStatus, InvitationState};

/// The smallest id of a UUID-backed id type (the nil UUID).
///
/// Parsed from text because the id types expose no constant and this crate does not depend on
/// `uuid`; parsing a fixed, valid literal cannot fail.
pub(crate) fn lowest<T: FromStr>() -> T {
    parse_fixed("00000000-0000-0000-0000-000000000000")
}

/// The largest id of a UUID-backed id type (the max UUID).
pub(crate) fn highest<T: FromStr>() -> T {
    parse_fixed("ffffffff-ffff-ffff-ffff-ffffffffffff")
}

fn parse_fixed<T: FromStr>(text: &str) -> T {
    text.parse()
        .unwrap_or_else(|_| unreachable!("a well-formed UUID literal always parses"))
}

/// Items of `set` whose key starts with `group`, after the exclusive cursor `after`, in order.
///
/// `set` holds `(group, id)` pairs; this is the keyset pagination every listing uses.
pub(crate) fn page_of<G, I>(
    set: &BTreeSet<(G, I)>,
    group: G,
    after: Option<I>,
) -> impl Iterator<Item = I> + '_
where
    G: Ord + Copy + 'static,
    I: Ord + Copy + FromStr + 'static,
{
    let start = match after {
        Some(cursor) => Bound::Excluded((group, cursor)),
        None => Bound::Included((group, lowest())),
    };
    set.range((start, Bound::Unbounded))
        .take_while(move |(g, _)| *g == group)
        .map(|(_, id)| *id)
}

/// Merges two ascending sequences into one ascending sequence.
pub(crate) fn merge_ascending<T: Ord>(
    left: impl Iterator<Item = T>,
    right: impl Iterator<Item = T>,
) -> impl Iterator<Item = T> {
    let (mut left, mut right) = (left.peekable(), right.peekable());
    std::iter::from_fn(move || match (left.peek(), right.peek()) {
        (Some(l), Some(r)) if l <= r => left.next(),
        (Some(_), Some(_)) => right.next(),
        (Some(_), None) => left.next(),
        (None, _) => right.next(),
    })
}

/// A stable rank for a stored invitation state, so it can be part of an ordered key.
pub(crate) fn invitation_state_rank(state: InvitationState) -> u8 {
    match state {
        InvitationState::Pending => 0,
        InvitationState::Accepted => 1,
        InvitationState::Declined => 2,
        InvitationState::Revoked => 3,
        InvitationState::Expired => 4,
    }
}

/// A stable rank for a delivery status, so it can be part of an ordered key.
pub(crate) fn delivery_status_rank(status: DeliveryStatus) -> u8 {
    match status {
        DeliveryStatus::Queued => 0,
        DeliveryStatus::Delivered => 1,
        DeliveryStatus::Failed => 2,
        DeliveryStatus::Cancelled => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use roster::UserId;

    #[test]
    fn bounds_enclose_every_id() {
        let some: UserId = "0190f5a0-0000-7000-8000-000000000001".parse().unwrap();
        assert!(lowest::<UserId>() < some);
        assert!(some < highest::<UserId>());
    }

    #[test]
    fn page_of_stays_in_its_group_and_skips_the_cursor() {
        let set: BTreeSet<(u8, UserId)> =
            [(1, lowest()), (2, lowest()), (2, highest()), (3, lowest())]
                .into_iter()
                .collect();
        assert_eq!(page_of(&set, 2, None).count(), 2);
        assert_eq!(
            page_of(&set, 2, Some(lowest())).collect::<Vec<_>>(),
            vec![highest::<UserId>()]
        );
    }

    #[test]
    fn merge_keeps_ascending_order() {
        let merged: Vec<_> =
            merge_ascending([1, 4, 5].into_iter(), [2, 3, 6].into_iter()).collect();
        assert_eq!(merged, vec![1, 2, 3, 4, 5, 6]);
    }
}
