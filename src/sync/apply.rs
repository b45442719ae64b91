//! Applying synced operations inside one transaction, shared by v1 `/api/sync` and v2 push.
//!
//! Every write goes through an [`Applier`], which remembers which documents changed; at the
//! end of the transaction [`Applier::finish`] takes a block of the client's sync sequence
//! (last write of the transaction, so the hot counter is held briefly) and appends one
//! change-log row per changed document. Stock only moves by deltas (`stock::apply`); sales
//! and payments go through billing's write path (command -> decide -> apply).

use bson::{doc, oid::ObjectId, DateTime, Document};
use mongodb::ClientSession;

use crate::{
    billing::{
        command::{RecordPayment, Sale},
        model::{InvoiceDoc, PaymentDoc},
        repo::Log,
        service::{self as billing, Issued},
    },
    catalog::{
        model::ItemDoc,
        repo as catalog_repo,
        stock::{self, Move, Moved, Reason},
    },
    error::{AppError, AppResult},
    state::AppState,
    sync::changes,
};

/// The synced collections' names (they live with the change-log writer, [`crate::changelog`]).
pub use crate::changelog::{CUSTOMERS, INVOICES, ITEMS, PAYMENTS};

/// A new item from a sync operation, checked by the catalog's own rules.
pub use crate::catalog::rules::NewItem;

pub struct Applier<'a> {
    pub state: &'a AppState,
    pub client_id: ObjectId,
    /// (collection, id, deleted) in write order.
    changed: Vec<(&'static str, ObjectId, bool)>,
}

impl<'a> Applier<'a> {
    pub fn new(state: &'a AppState, client_id: ObjectId) -> Self {
        Applier { state, client_id, changed: Vec::new() }
    }

    fn touch(&mut self, coll: &'static str, id: ObjectId) {
        self.changed.push((coll, id, false));
    }

    fn tomb(&mut self, coll: &'static str, id: ObjectId) {
        self.changed.push((coll, id, true));
    }

    /// Number of changes so far (to undo nothing: the transaction is aborted on failure).
    pub fn len(&self) -> usize {
        self.changed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.changed.is_empty()
    }

    /// Take the sequence block and append the change log. Returns the last sequence number
    /// of the transaction (at least one number is always taken).
    pub async fn finish(self, s: &mut ClientSession) -> AppResult<i64> {
        changes::append(&self.state.db, s, self.client_id, &self.changed).await
    }

    async fn check_group(&self, s: &mut ClientSession, group: Option<ObjectId>) -> AppResult<()> {
        if let Some(g) = group {
            if !catalog_repo::group_exists(&self.state.db, s, self.client_id, g).await? {
                return Err(AppError::validation("groupId", "is not an item group of this shop"));
            }
        }
        Ok(())
    }

    pub async fn create_item(&mut self, s: &mut ClientSession, n: &NewItem) -> AppResult<ItemDoc> {
        self.check_group(s, n.group_id).await?;
        let now = DateTime::now();
        let item = n.doc(self.client_id, 0, now);
        catalog_repo::insert_item(&self.state.db, s, &item).await?;
        if n.stock != 0 {
            self.move_stock(s, item.id, n.stock).await?;
        }
        self.touch(ITEMS, item.id);
        Ok(ItemDoc { stock: n.stock, ..item })
    }

    async fn move_stock(&mut self, s: &mut ClientSession, item_id: ObjectId, delta: i64) -> AppResult<()> {
        let mv = Move {
            client_id: self.client_id,
            item_id,
            delta,
            allow_negative: true,
            reason: Reason::Adjustment,
            ref_id: None,
        };
        match stock::apply(&self.state.db, s, &mv).await? {
            Moved::Done => Ok(()),
            Moved::OutOfRange => Err(crate::limits::stock_out_of_range("stockDelta")),
            _ => Err(not_item()),
        }
    }

    /// Field-level last-writer-wins: only the fields sent are `$set` (server order decides);
    /// stock moves only by `stock_delta`.
    pub async fn update_item(
        &mut self,
        s: &mut ClientSession,
        id: ObjectId,
        set: Document,
        group: Option<ObjectId>,
        stock_delta: i64,
    ) -> AppResult<()> {
        self.check_group(s, group).await?;
        if catalog_repo::update_item(&self.state.db, s, self.client_id, id, set).await?.is_none() {
            return Err(not_item());
        }
        if stock_delta != 0 {
            self.move_stock(s, id, stock_delta).await?;
        }
        self.touch(ITEMS, id);
        Ok(())
    }

    /// Soft delete (the item stays readable in old invoices); a tombstone for the pull.
    pub async fn delete_item(&mut self, s: &mut ClientSession, id: ObjectId) -> AppResult<()> {
        let r = self
            .state
            .db
            .collection::<Document>(ITEMS)
            .update_one(
                doc! { "_id": id, "clientId": self.client_id },
                doc! { "$set": { "isActive": false, "updatedAt": DateTime::now() }, "$inc": { "__v": 1 } },
            )
            .session(&mut *s)
            .await?;
        if r.matched_count == 0 {
            return Err(not_item());
        }
        self.tomb(ITEMS, id);
        Ok(())
    }

    /// Issue an offline sale through billing's write path (`billing::service::issue_in_session`:
    /// load, `billing::decide::sale`, `billing::repo::apply_sale`); the documents it writes
    /// (invoice, first payment, items, customer) join this transaction's change log.
    pub async fn invoice(&mut self, s: &mut ClientSession, sale: &Sale) -> AppResult<Issued> {
        billing::issue_in_session(s, self.state, sale, Log::Into(&mut self.changed)).await
    }

    /// Record a payment through billing's write path (`billing::decide::payment`).
    pub async fn pay(&mut self, s: &mut ClientSession, p: &RecordPayment) -> AppResult<(PaymentDoc, InvoiceDoc)> {
        billing::pay_in(s, self.state, p, Log::Into(&mut self.changed)).await
    }
}

fn not_item() -> AppError {
    AppError::validation("id", "is not an item of this shop")
}
