//! A small SQL text builder: every value is bound, never spliced, with the placeholder style of the engine.

use sea_orm::{DbBackend, Statement, Value};

pub(crate) struct Sql {
    backend: DbBackend,
    text: String,
    values: Vec<Value>,
}

impl Sql {
    pub fn new(backend: DbBackend) -> Sql {
        Sql { backend, text: String::with_capacity(512), values: Vec::new() }
    }

    pub fn backend(&self) -> DbBackend {
        self.backend
    }

    /// Appends SQL text. Only literals compile here: user data cannot reach the SQL text, only bound values.
    pub fn push(&mut self, text: &'static str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    /// Appends a numbered name the statement makes up itself: `prefix` then `n` (`) AS slice3`).
    pub fn push_numbered(&mut self, prefix: &'static str, n: usize) -> &mut Sql {
        self.text.push_str(prefix);
        self.text.push_str(&n.to_string());
        self
    }

    /// Appends a placeholder bound to `value`.
    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Sql {
        self.values.push(value.into());
        match self.backend {
            DbBackend::Postgres => {
                let n = self.values.len();
                self.text.push('$');
                self.text.push_str(&n.to_string());
            }
            _ => self.text.push('?'),
        }
        self
    }

    /// Appends `(?, ?, …)` bound to the items; callers never pass an empty list (`IN ()` is not SQL).
    pub fn bind_list<T: Into<Value>>(&mut self, items: impl IntoIterator<Item = T>) -> &mut Sql {
        self.push("(");
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(item);
        }
        self.push(")")
    }

    pub fn build(self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text, self.values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_follow_the_engine() {
        for (backend, expected) in
            [(DbBackend::Sqlite, "a = ? AND b IN (?, ?)"), (DbBackend::Postgres, "a = $1 AND b IN ($2, $3)")]
        {
            let mut sql = Sql::new(backend);
            sql.push("a = ").bind(1_i64).push(" AND b IN ").bind_list(["x", "y"]);
            let statement = sql.build();
            assert_eq!(statement.sql, expected);
            assert_eq!(statement.values.map(|v| v.0.len()), Some(3));
        }
    }
}
