//! Approvals (issue 15): a manager or admin approves a cashier's action above the cashier's
//! rights on the cashier's own device, by choosing themselves and entering their PIN (the
//! approver is named, never found by the PIN alone). The server answers a one-time approval
//! token bound to that exact action (a SHA-256 of its subject: for a counter price, the cart,
//! the item, the price in paise and the quantity), valid [`TTL_SECS`], consumed once (a
//! guarded update), and the approver is recorded on what it approved and in the audit trail.
//!
//! Stored in `approvals` (`{clientId, tokenHash, action, subjectHash, requestedBy, approver,
//! reason, expiresAt (TTL), usedAt}`); the token itself is never stored.

use bson::{doc, oid::ObjectId, DateTime};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{
    access::{Permission, Role},
    error::{code, AppError, AppResult},
    money::Paise,
    users::{repo as users, UserStatus},
};

/// How long an approval token is valid: 5 minutes.
pub const TTL_SECS: i64 = 300;

/// Wrong PINs allowed per approver in [`PIN_WINDOW`] (counted before the check; a right one is
/// given back).
pub const PIN_FAILS: i64 = 5;

/// The window of [`PIN_FAILS`]: 15 minutes.
pub const PIN_WINDOW: std::time::Duration = std::time::Duration::from_secs(900);

/// The collection.
pub const APPROVALS: &str = "approvals";

/// A product line of an approved sale: item, quantity, counter price (`None`: the catalog's),
/// packing unit (`None`: the base unit).
pub type SaleLine = (ObjectId, i64, Option<Paise>, Option<ObjectId>);

/// What is approved, with exactly what it is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A counter price other than the catalog's on a cart line (B15): the cart, the item, the
    /// unit price in paise and the quantity in base units.
    PriceOverride { cart_id: ObjectId, item_id: ObjectId, unit_price: Paise, quantity: i64 },
    /// A whole sale the seller may not make alone (counter prices without `price_override`, a
    /// bill discount above their cap): its cart (a cart sale) or its product lines in order
    /// (item, quantity, counter price in paise or `None` = the catalog's, and the packing
    /// unit the line sells in, `None` = the base unit: quantity and price count in it, issue
    /// 16), and its bill discount in paise. The approver must hold `price_override`.
    Sale { cart_id: Option<ObjectId>, lines: Vec<SaleLine>, discount: Paise },
    /// Cancelling an invoice (issue 18), refunding what is paid in `refund` (a method) when
    /// set. The approver must hold `cancel`.
    Cancel { invoice_id: ObjectId, refund: Option<String> },
    /// A credit note against an invoice (issue 18): `credit` is its canonical text
    /// (`billing::credit::dto::credit_text`: its lines and quantities or its amount, restock,
    /// and settlement with the refund's method and amount). The approver must hold `cancel`.
    CreditNote { invoice_id: ObjectId, credit: String },
}

impl Subject {
    /// The action's name (`price_override`) and the permission an approver must hold.
    pub fn action(&self) -> (&'static str, Permission) {
        match self {
            Subject::PriceOverride { .. } => ("price_override", Permission::PriceOverride),
            Subject::Sale { .. } => ("sale", Permission::PriceOverride),
            Subject::Cancel { .. } => ("cancel", Permission::Cancel),
            Subject::CreditNote { .. } => ("credit_note", Permission::Cancel),
        }
    }

    /// SHA-256 (hex) of the action and its exact subject.
    pub fn hash(&self) -> String {
        let text = match self {
            Subject::PriceOverride { cart_id, item_id, unit_price, quantity } => {
                format!("price_override|{}|{}|{}|{}", cart_id.to_hex(), item_id.to_hex(), unit_price.as_i64(), quantity)
            }
            Subject::Sale { cart_id, lines, discount } => {
                let mut t = format!("sale|{}|{}", cart_id.map(|c| c.to_hex()).unwrap_or_default(), discount.as_i64());
                for (item, qty, price, unit) in lines {
                    let price = price.map(|p| p.as_i64().to_string()).unwrap_or_else(|| "-".into());
                    t.push_str(&format!("|{}:{}:{}", item.to_hex(), qty, price));
                    // a line in a packing unit is another line than the same numbers in pieces
                    if let Some(u) = unit {
                        t.push_str(&format!(":{}", u.to_hex()));
                    }
                }
                t
            }
            Subject::Cancel { invoice_id, refund } => {
                format!("cancel|{}|{}", invoice_id.to_hex(), refund.as_deref().unwrap_or("-"))
            }
            Subject::CreditNote { invoice_id, credit } => format!("credit_note|{}|{credit}", invoice_id.to_hex()),
        };
        hex::encode(Sha256::digest(text.as_bytes()))
    }
}

/// The approver as recorded (`{userId, name, role}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Approver {
    pub user_id: String,
    pub name: String,
    pub role: Role,
}

/// An approval asked for: in shop `client_id`, by `requested_by`, of `approver_id` with their
/// `pin`, for `subject`, because of `reason`.
pub struct Ask<'a> {
    pub client_id: ObjectId,
    pub requested_by: ObjectId,
    pub approver_id: ObjectId,
    pub pin: String,
    pub subject: &'a Subject,
    pub reason: &'a str,
}

/// An issued approval: the token (shown once), its expiry, the approver.
#[derive(Debug, Clone)]
pub struct Issued {
    pub token: String,
    pub expires_at: DateTime,
    pub approver: Approver,
}

fn refused() -> AppError {
    AppError::forbidden(code::FORBIDDEN, "The approver, their PIN or their right to approve this was not accepted")
}

/// Issue the approval `ask` describes. Refused (403, one answer for an unknown approver, a
/// wrong PIN, no PIN set, an inactive approver or one without the action's permission); the
/// approver cannot be the requester (403); 429 after [`PIN_FAILS`] wrong PINs in
/// [`PIN_WINDOW`]. `effective` gives a user's effective permissions (the caller knows the
/// shop's role grants).
pub async fn issue(
    db: &mongodb::Database,
    ask: Ask<'_>,
    effective: impl Fn(&crate::users::UserDoc) -> crate::access::PermSet,
) -> AppResult<Issued> {
    let Ask { client_id, requested_by, approver_id, pin, subject, reason } = ask;
    if approver_id == requested_by {
        return Err(AppError::forbidden(code::FORBIDDEN, "An action is approved by someone else"));
    }
    let key = format!("approval-pin:{}", approver_id.to_hex());
    if crate::ratelimit::incr(db, &key, PIN_WINDOW).await? > PIN_FAILS {
        return Err(AppError::TooManyRequests {
            message: "Too many wrong PINs for this approver; try again later".into(),
            retry_after_secs: PIN_WINDOW.as_secs(),
        });
    }
    let approver = users::find(db, client_id, approver_id).await?;
    let stored = approver.as_ref().and_then(|u| u.pin_hash.clone());
    if !crate::security::password::verify(pin, stored).await? {
        return Err(refused());
    }
    crate::ratelimit::undo(db, &key, PIN_WINDOW).await?;
    let approver = approver.ok_or_else(refused)?;
    let (action, needed) = subject.action();
    if approver.status != UserStatus::Active || !effective(&approver).contains(needed) {
        return Err(refused());
    }
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let now = DateTime::now();
    let expires_at = DateTime::from_millis(now.timestamp_millis() + TTL_SECS * 1000);
    let who = Approver { user_id: approver.id.to_hex(), name: approver.name(), role: approver.role };
    db.collection::<bson::Document>(APPROVALS)
        .insert_one(doc! {
            "clientId": client_id,
            "tokenHash": hex::encode(Sha256::digest(token.as_bytes())),
            "action": action,
            "subjectHash": subject.hash(),
            "requestedBy": requested_by,
            "approver": { "userId": approver.id, "name": &who.name, "role": approver.role.as_str() },
            "reason": reason,
            "createdAt": now,
            "expiresAt": expires_at,
            "usedAt": bson::Bson::Null,
        })
        .await?;
    Ok(Issued { token, expires_at, approver: who })
}

/// The refusal of an action that needs an approval when no token was sent (issue 18: a cancel
/// or credit note by a user without `cancel`): 403 `APPROVAL_REQUIRED` naming `what` and the
/// approval's action. The text the online cancel and credit-note routes answer, so a synced
/// operation is rejected with the same reason.
pub fn approval_required(subject: &Subject, what: &str) -> AppError {
    let (action, _) = subject.action();
    AppError::forbidden(
        code::APPROVAL_REQUIRED,
        format!("{what} needs a manager's approval; ask one with POST /api/staff/approvals (action {action}) and send its approvalToken"),
    )
}

/// Consume `token` for `subject`, asked by `requested_by`: exactly once, within its validity,
/// for this very subject and requester. Returns the approver and the approval's reason. 403
/// `APPROVAL_INVALID` otherwise (unknown, used, expired, another action or subject).
pub async fn consume(
    db: &mongodb::Database,
    client_id: ObjectId,
    requested_by: ObjectId,
    token: &str,
    subject: &Subject,
) -> AppResult<(Approver, String)> {
    let now = DateTime::now();
    let used = db
        .collection::<bson::Document>(APPROVALS)
        .find_one_and_update(unused(client_id, requested_by, token, subject, now), doc! { "$set": { "usedAt": now } })
        .await?;
    approver_of(used)
}

/// [`consume`] inside the caller's transaction `s` (the v2 push, issue 18): the token is
/// spent only if the transaction commits, so a push that is aborted and run again (or
/// retried after a write conflict) does not lose it.
pub async fn consume_in(
    db: &mongodb::Database,
    s: &mut mongodb::ClientSession,
    client_id: ObjectId,
    requested_by: ObjectId,
    token: &str,
    subject: &Subject,
) -> AppResult<(Approver, String)> {
    let now = DateTime::now();
    let used = db
        .collection::<bson::Document>(APPROVALS)
        .find_one_and_update(unused(client_id, requested_by, token, subject, now), doc! { "$set": { "usedAt": now } })
        .session(s)
        .await?;
    approver_of(used)
}

/// The filter of an unused, unexpired approval of `token` for `subject` by `requested_by`.
fn unused(
    client_id: ObjectId,
    requested_by: ObjectId,
    token: &str,
    subject: &Subject,
    now: DateTime,
) -> bson::Document {
    doc! {
        "clientId": client_id,
        "tokenHash": hex::encode(Sha256::digest(token.trim().as_bytes())),
        "subjectHash": subject.hash(),
        "requestedBy": requested_by,
        "usedAt": bson::Bson::Null,
        "expiresAt": { "$gt": now },
    }
}

/// The approver and reason of a consumed approval; `None` (nothing matched): 403
/// `APPROVAL_INVALID`.
fn approver_of(used: Option<bson::Document>) -> AppResult<(Approver, String)> {
    let used = used.ok_or_else(|| {
        AppError::forbidden(
            code::APPROVAL_INVALID,
            "The approval token is unknown, used, expired, or for another action",
        )
    })?;
    let a = used.get_document("approver").map_err(|_| AppError::internal("approval without approver"))?;
    let role = a.get_str("role").ok().and_then(|r| Role::ALL.into_iter().find(|x| x.as_str() == r));
    let approver = Approver {
        user_id: a.get_object_id("userId").map(|i| i.to_hex()).unwrap_or_default(),
        name: a.get_str("name").unwrap_or_default().to_string(),
        role: role.unwrap_or(Role::Manager),
    };
    Ok((approver, used.get_str("reason").unwrap_or_default().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_binds_every_part_of_the_subject() {
        let base = Subject::PriceOverride {
            cart_id: ObjectId::from_bytes([1; 12]),
            item_id: ObjectId::from_bytes([2; 12]),
            unit_price: Paise::new(5000),
            quantity: 2,
        };
        let Subject::PriceOverride { cart_id, item_id, unit_price, quantity } = base.clone() else {
            panic!("the base is a price override")
        };
        let variants = [
            Subject::PriceOverride { cart_id: ObjectId::from_bytes([3; 12]), item_id, unit_price, quantity },
            Subject::PriceOverride { cart_id, item_id: ObjectId::from_bytes([3; 12]), unit_price, quantity },
            Subject::PriceOverride { cart_id, item_id, unit_price: Paise::new(5001), quantity },
            Subject::PriceOverride { cart_id, item_id, unit_price, quantity: 3 },
        ];
        for v in variants {
            assert_ne!(v.hash(), base.hash(), "{v:?}");
        }
        assert_eq!(base.hash(), base.clone().hash());
    }

    #[test]
    fn a_sale_approval_binds_its_lines_prices_order_cart_and_discount() {
        let (a, b) = (ObjectId::from_bytes([1; 12]), ObjectId::from_bytes([2; 12]));
        let base = Subject::Sale {
            cart_id: None,
            lines: vec![(a, 2, Some(Paise::new(500)), None), (b, 1, None, None)],
            discount: Paise::new(1000),
        };
        let variants = [
            Subject::Sale {
                cart_id: None,
                lines: vec![(a, 2, Some(Paise::new(500)), None), (b, 1, None, None)],
                discount: Paise::new(999),
            },
            Subject::Sale {
                cart_id: None,
                lines: vec![(a, 3, Some(Paise::new(500)), None), (b, 1, None, None)],
                discount: Paise::new(1000),
            },
            Subject::Sale {
                cart_id: None,
                lines: vec![(a, 2, Some(Paise::new(499)), None), (b, 1, None, None)],
                discount: Paise::new(1000),
            },
            // a catalog price (none sent) is not the same as a price sent
            Subject::Sale {
                cart_id: None,
                lines: vec![(a, 2, Some(Paise::new(500)), None), (b, 1, Some(Paise::new(0)), None)],
                discount: Paise::new(1000),
            },
            Subject::Sale {
                cart_id: None,
                lines: vec![(b, 1, None, None), (a, 2, Some(Paise::new(500)), None)],
                discount: Paise::new(1000),
            },
            Subject::Sale {
                cart_id: None,
                lines: vec![(a, 2, Some(Paise::new(500)), None)],
                discount: Paise::new(1000),
            },
            Subject::Sale {
                cart_id: Some(a),
                lines: vec![(a, 2, Some(Paise::new(500)), None), (b, 1, None, None)],
                discount: Paise::new(1000),
            },
            // the same numbers in a packing unit (2 boxes at 5.00 a box) are another sale
            // than 2 pieces at 5.00 (issue 16)
            Subject::Sale {
                cart_id: None,
                lines: vec![(a, 2, Some(Paise::new(500)), Some(ObjectId::from_bytes([3; 12]))), (b, 1, None, None)],
                discount: Paise::new(1000),
            },
        ];
        for v in variants {
            assert_ne!(v.hash(), base.hash(), "{v:?}");
        }
        assert_eq!(base.hash(), base.clone().hash());
        assert_eq!(base.action(), ("sale", Permission::PriceOverride));
    }
}
