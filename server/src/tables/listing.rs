//! The Unsubscribe page's filter (seed 002) as SQL: its three tabs list `instances`,
//! `orders` and `unsubscriptions`, each through its table's module, with the same filter
//! over the columns each calls its own.

use crate::clock::Millis;

/// A tab's filter as SQL holding only the conditions asked for. A form such as
/// `($2 IS NULL OR product = $2)` keeps one statement for every query, but the database then
/// cannot look the product up in `instances_listing` (SQLite) nor in a generic plan
/// (PostgreSQL): it counted every running instance of the account for each page.
pub struct Filter<'a> {
    pub account_id: &'a str,
    pub product: Option<&'a str>,
    pub instance_like: Option<&'a str>,
    pub from: Option<Millis>,
    pub to: Option<Millis>,
}

/// What a tab calls the columns its filter reads.
pub struct Columns {
    account: &'static str,
    product: &'static str,
    instance: &'static str,
    /// The order time the From and To dates bound.
    time: &'static str,
}

pub const RESOURCE_COLUMNS: Columns = Columns {
    account: "account_id",
    product: "product",
    instance: "id",
    time: "created_at",
};

pub const RENEWAL_COLUMNS: Columns = Columns {
    account: "o.account_id",
    product: "i.product",
    instance: "i.id",
    time: "o.created_at",
};

pub const RECORD_COLUMNS: Columns = Columns {
    account: "account_id",
    product: "product",
    instance: "instance_id",
    time: "created_at",
};

impl<'a> Filter<'a> {
    /// The `WHERE` conditions over `columns`, and the number of the next free placeholder.
    pub fn sql(&self, columns: &Columns) -> (String, usize) {
        let mut sql = format!("{} = $1", columns.account);
        let mut next = 2;
        for (asked, column, op) in [
            (self.product.is_some(), columns.product, "="),
            (self.instance_like.is_some(), columns.instance, "LIKE"),
            (self.from.is_some(), columns.time, ">="),
            (self.to.is_some(), columns.time, "<"),
        ] {
            if asked {
                sql.push_str(&format!(" AND {column} {op} ${next}"));
                next += 1;
            }
        }
        (sql, next)
    }

    /// Binds the values of [`Filter::sql`]'s placeholders, in its order.
    pub fn bind<'q, O>(
        &self,
        query: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>
    where
        'a: 'q,
    {
        let mut query = query.bind(self.account_id);
        if let Some(product) = self.product {
            query = query.bind(product);
        }
        if let Some(like) = self.instance_like {
            query = query.bind(like);
        }
        if let Some(from) = self.from {
            query = query.bind(from);
        }
        if let Some(to) = self.to {
            query = query.bind(to);
        }
        query
    }
}

/// A page: how many rows it holds and how many come before it.
#[derive(Clone, Copy)]
pub struct Page {
    pub size: i64,
    pub offset: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_numbers_only_the_conditions_asked_for() {
        let mut filter = Filter {
            account_id: "acc",
            product: None,
            instance_like: None,
            from: None,
            to: None,
        };
        let base = "account_id = $1";
        assert_eq!(filter.sql(&RESOURCE_COLUMNS), (base.to_owned(), 2));
        filter.product = Some("rds");
        filter.to = Some(Millis(5));
        assert_eq!(
            filter.sql(&RESOURCE_COLUMNS),
            (format!("{base} AND product = $2 AND created_at < $3"), 4)
        );
        filter.instance_like = Some("%i-1%");
        filter.from = Some(Millis(1));
        assert_eq!(
            filter.sql(&RESOURCE_COLUMNS),
            (
                format!(
                    "{base} AND product = $2 AND id LIKE $3 AND created_at >= $4 AND created_at < $5"
                ),
                6
            )
        );
        // Each tab names its own columns.
        assert_eq!(
            filter.sql(&RENEWAL_COLUMNS).0,
            "o.account_id = $1 AND i.product = $2 AND i.id LIKE $3 AND o.created_at >= $4 AND o.created_at < $5"
        );
    }
}
