//! Applying synced operations inside one transaction, shared by v1 `/api/sync` and v2 push.
//!
//! Every write goes through an [`Applier`], which remembers which documents changed; at the
//! end of the transaction [`Applier::finish`] takes a block of the client's sync sequence
//! (last write of the transaction, so the hot counter is held briefly) and appends one
//! change-log row per changed document. Stock only moves by deltas (`stock::apply`); sales
//! and payments go through billing's write path (command -> decide -> apply).

use bson::oid::ObjectId;
use mongodb::ClientSession;

use crate::{
    billing::{
        command::{RecordPayment, Sale},
        model::{InvoiceDoc, PaymentDoc},
        repo::Log,
        service::{self as billing, Issued},
    },
    catalog::{
        command::{CreateItem, DeleteItem, UpdateItem},
        decide::{self, Refusal},
        model::ItemDoc,
        repo as catalog_repo,
    },
    error::AppResult,
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

    /// Create an item ([`catalog::decide::create_item`]): 400 naming `groupId` when the group
    /// is not the shop's.
    pub async fn create_item(&mut self, s: &mut ClientSession, cmd: &CreateItem) -> AppResult<ItemDoc> {
        let db = &self.state.db;
        let refs = catalog_repo::load_refs(db, s, self.client_id, &catalog_repo::Named::of_create(cmd)).await?;
        let plan = decide::create_item(cmd, &refs).map_err(Refusal::synced)?;
        self.changed.push(catalog_repo::write(db, s, &plan).await?);
        Ok(plan.after().clone())
    }

    /// Edit an item ([`catalog::decide::update_item`]): `Ok(Err(conflict))` when it is based
    /// on an older version of a field changed since (not applied; the caller lists it); 400
    /// `id` when the item is not the shop's.
    pub async fn update_item(
        &mut self,
        s: &mut ClientSession,
        cmd: &UpdateItem,
    ) -> AppResult<Result<ItemDoc, Box<decide::Conflict>>> {
        let db = &self.state.db;
        let current = catalog_repo::find_item(db, s, self.client_id, cmd.id).await?;
        let refs = catalog_repo::load_refs(db, s, self.client_id, &catalog_repo::Named::of_update(cmd)).await?;
        let plan = match decide::update_item(cmd, current.as_ref(), &refs) {
            Ok(p) => p,
            Err(Refusal::Conflict(c)) => return Ok(Err(c)),
            Err(r) => return Err(r.synced()),
        };
        self.changed.push(catalog_repo::write(db, s, &plan).await?);
        Ok(Ok(plan.after().clone()))
    }

    /// Deactivate an item ([`catalog::decide::delete_item`]); logged as a delete.
    pub async fn delete_item(&mut self, s: &mut ClientSession, cmd: &DeleteItem) -> AppResult<()> {
        let db = &self.state.db;
        let current = catalog_repo::find_item(db, s, self.client_id, cmd.id).await?;
        let plan = decide::delete_item(cmd, current.as_ref()).map_err(Refusal::synced)?;
        self.changed.push(catalog_repo::write(db, s, &plan).await?);
        Ok(())
    }

    /// Issue an offline sale through billing's write path (`billing::service::issue_in_session`:
    /// load, `billing::decide::sale`, `billing::repo::apply_sale`); the documents it writes
    /// (invoice, its payments, items, customer) join this transaction's change log.
    pub async fn invoice(&mut self, s: &mut ClientSession, sale: &Sale) -> AppResult<Issued> {
        billing::issue_in_session(s, self.state, sale, Log::Into(&mut self.changed)).await
    }

    /// Record a payment through billing's write path (`billing::decide::payment`): its
    /// payment documents (one per paid part of a split payment) and the invoice after them.
    pub async fn pay(&mut self, s: &mut ClientSession, p: &RecordPayment) -> AppResult<(Vec<PaymentDoc>, InvoiceDoc)> {
        billing::pay_in(s, self.state, p, Log::Into(&mut self.changed)).await
    }
}
