//! Property-test inputs shared by the modules' tests.

use proptest::strategy::Strategy;

/// Texts glued from up to `max` of `pieces` (repeats allowed): the
/// scanners' and parsers' tests build their inputs from the pieces that
/// meet at their edges.
pub fn glued(pieces: &[&'static str], max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(pieces.to_vec()), 0..max)
        .prop_map(|p| p.concat())
}
