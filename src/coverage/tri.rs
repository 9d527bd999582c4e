//! Kleene three-valued logic. AWS Backup's documentation leaves some constructs open; those
//! evaluate to `Unknown`, and only a definite `True` ever becomes COMPLIANT.

use serde::Serialize;
use std::fmt;

/// yes / no / unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tri {
    /// Definitely holds under every plausible reading.
    True,
    /// Definitely does not hold under any plausible reading.
    False,
    /// The readings disagree.
    Unknown,
}

impl Tri {
    /// `true` → `True`, `false` → `False`.
    pub fn from_bool(b: bool) -> Tri {
        if b {
            Tri::True
        } else {
            Tri::False
        }
    }

    /// Kleene AND: `False` wins, then `Unknown`.
    pub fn and(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::False, _) | (_, Tri::False) => Tri::False,
            (Tri::True, Tri::True) => Tri::True,
            _ => Tri::Unknown,
        }
    }

    /// Kleene OR: `True` wins, then `Unknown`.
    pub fn or(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::True, _) | (_, Tri::True) => Tri::True,
            (Tri::False, Tri::False) => Tri::False,
            _ => Tri::Unknown,
        }
    }

    /// Kleene NOT: `Unknown` stays `Unknown`.
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Tri {
        match self {
            Tri::True => Tri::False,
            Tri::False => Tri::True,
            Tri::Unknown => Tri::Unknown,
        }
    }

    /// How `explain` prints it.
    pub fn word(self) -> &'static str {
        match self {
            Tri::True => "yes",
            Tri::False => "no",
            Tri::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Tri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

#[cfg(test)]
mod tests {
    use super::Tri::{self, False, True, Unknown};

    #[test]
    fn kleene_tables_hold() {
        // GIVEN every pair of values, WHEN combined, THEN the strong Kleene tables hold.
        let all = [True, False, Unknown];
        for a in all {
            for b in all {
                let and = a.and(b);
                let or = a.or(b);
                assert_eq!(and, b.and(a), "and commutes");
                assert_eq!(or, b.or(a), "or commutes");
                assert_eq!(a.and(b).not(), a.not().or(b.not()), "de Morgan");
                if a == False || b == False {
                    assert_eq!(and, False);
                }
                if a == True || b == True {
                    assert_eq!(or, True);
                }
            }
        }
        assert_eq!(Unknown.and(True), Unknown);
        assert_eq!(Unknown.or(False), Unknown);
        assert_eq!(Unknown.not(), Unknown);
        assert_eq!(Tri::from_bool(true), True);
    }
}
