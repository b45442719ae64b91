//! The repository of bill books and device series: the only code of `billing::numbering`
//! that builds BSON. Functions taking a `ClientSession` run in the caller's transaction.

use std::collections::HashSet;

use bson::{doc, oid::ObjectId, DateTime, Document};
use futures::TryStreamExt;
use mongodb::{ClientSession, Collection, Database};

use crate::{
    billing::{
        model::InvoiceDoc,
        numbering::{
            BillBookDoc, BookKey, CancelledLeaf, DeviceSeriesDoc, Numbers, PrintedRef, BILL_BOOKS, DEVICE_SERIES,
            NUMBER_USED,
        },
        repo::invoices,
    },
    db::scoped,
    error::{code, is_duplicate_key, AppError},
};

/// The `billbooks` collection.
pub fn books(db: &Database) -> Collection<BillBookDoc> {
    db.collection(BILL_BOOKS)
}
/// The `deviceseries` collection.
pub fn series(db: &Database) -> Collection<DeviceSeriesDoc> {
    db.collection(DEVICE_SERIES)
}

async fn all<T>(s: &mut ClientSession, coll: Collection<T>, filter: Document) -> Result<Vec<T>, AppError>
where
    T: serde::de::DeserializeOwned + Unpin + Send + Sync,
{
    let mut cur = coll.find(filter).session(&mut *s).await?;
    let mut out = Vec::new();
    while let Some(d) = cur.next(&mut *s).await.transpose()? {
        out.push(d);
    }
    Ok(out)
}

/// Serialise the number-series registrations of a shop and year: a write to the counter
/// `numbering:<client>:<fy>` in the caller's transaction (two at once conflict, one retries
/// and sees the other's book).
pub async fn serialize(db: &Database, s: &mut ClientSession, client_id: ObjectId, fy: &str) -> Result<(), AppError> {
    crate::billing::repo::reserve_seq(db, s, &format!("numbering:{}:{fy}", client_id.to_hex()), 1).await?;
    Ok(())
}

/// The shop's books and device series of a financial year.
pub async fn year(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    fy: &str,
) -> Result<(Vec<BillBookDoc>, Vec<DeviceSeriesDoc>), AppError> {
    let filter = doc! { "clientId": client_id, "financialYear": fy };
    Ok((all(s, books(db), filter.clone()).await?, all(s, series(db), filter).await?))
}

/// Insert a book (409 `DUPLICATE` when the shop has that book number in that year).
pub async fn insert_book(db: &Database, s: &mut ClientSession, b: &BillBookDoc) -> Result<(), AppError> {
    books(db).insert_one(b).session(&mut *s).await.map_err(|e| {
        if is_duplicate_key(&e) {
            AppError::conflict(
                code::DUPLICATE,
                format!("book {} is already registered for {}", b.book_no, b.financial_year),
            )
        } else {
            e.into()
        }
    })?;
    Ok(())
}

/// The shop's books, newest year first, then by book number.
pub async fn list_books(db: &Database, client_id: ObjectId, fy: Option<&str>) -> Result<Vec<BillBookDoc>, AppError> {
    let mut filter = doc! { "clientId": client_id };
    if let Some(fy) = fy {
        filter.insert("financialYear", fy);
    }
    Ok(books(db).find(filter).sort(doc! { "financialYear": -1, "bookNo": 1 }).await?.try_collect().await?)
}

/// One book of the shop (`None`: missing or another shop's).
pub async fn find_book(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
) -> Result<Option<BillBookDoc>, AppError> {
    Ok(books(db).find_one(scoped(client_id, doc! { "_id": id })).session(&mut *s).await?)
}

/// Replace a book's editable fields, guarded on the version read (`false`: it changed).
pub async fn update_book(db: &Database, s: &mut ClientSession, b: &BillBookDoc) -> Result<bool, AppError> {
    let set = doc! {
        "bookNo": &b.book_no, "prefix": &b.prefix, "firstSerial": b.first_serial, "lastSerial": b.last_serial,
        "updatedAt": b.updated_at,
    };
    let r = books(db)
        .update_one(
            scoped(b.client_id, doc! { "_id": b.id, "__v": b.version }),
            doc! { "$set": set, "$inc": { "__v": 1 } },
        )
        .session(&mut *s)
        .await
        .map_err(|e| {
            if is_duplicate_key(&e) {
                AppError::conflict(
                    code::DUPLICATE,
                    format!("book {} is already registered for {}", b.book_no, b.financial_year),
                )
            } else {
                e.into()
            }
        })?;
    Ok(r.matched_count == 1)
}

/// The id of the invoice written on leaf `serial` of `book`, if any.
pub async fn leaf_invoice(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    book: ObjectId,
    serial: i64,
) -> Result<Option<ObjectId>, AppError> {
    let d = invoices(db)
        .clone_with_type::<Document>()
        .find_one(doc! { "clientId": client_id, "offlineBillRef.bookId": book, "offlineBillRef.serial": serial })
        .projection(doc! { "_id": 1 })
        .session(&mut *s)
        .await?;
    Ok(d.and_then(|d| d.get_object_id("_id").ok()))
}

/// Mark leaf `leaf.serial` cancelled, guarded on it not being cancelled already (`false`).
pub async fn cancel_leaf(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    book: ObjectId,
    leaf: &CancelledLeaf,
) -> Result<bool, AppError> {
    let r = books(db)
        .update_one(
            scoped(client_id, doc! { "_id": book, "cancelled.serial": { "$ne": leaf.serial } }),
            doc! { "$push": { "cancelled": bson::to_bson(leaf)? }, "$set": { "updatedAt": leaf.at }, "$inc": { "__v": 1 } },
        )
        .session(&mut *s)
        .await?;
    Ok(r.matched_count == 1)
}

/// The leaves of `book` entered as bills: (serial, invoice id, invoice number), by serial.
pub async fn used_leaves(
    db: &Database,
    client_id: ObjectId,
    book: ObjectId,
) -> Result<Vec<(i64, ObjectId, String)>, AppError> {
    let docs: Vec<Document> = invoices(db)
        .clone_with_type::<Document>()
        .find(doc! { "clientId": client_id, "offlineBillRef.bookId": book })
        .projection(doc! { "_id": 1, "invoiceNumber": 1, "offlineBillRef.serial": 1 })
        .sort(doc! { "offlineBillRef.serial": 1 })
        .await?
        .try_collect()
        .await?;
    Ok(docs
        .iter()
        .filter_map(|d| {
            let serial = d.get_document("offlineBillRef").ok()?.get_i64("serial").ok()?;
            Some((serial, d.get_object_id("_id").ok()?, d.get_str("invoiceNumber").unwrap_or_default().to_string()))
        })
        .collect())
}

/// What the printed numbers of these sales are judged against (`Numbers`): the books they
/// name (by id, or every year's book of that number), `device`'s series when one names a
/// series number, and which candidate numbers some invoice of the shop already has.
pub async fn load(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    refs: &[&PrintedRef],
    device: Option<&str>,
) -> Result<Numbers, AppError> {
    let mut n = Numbers::default();
    if refs.is_empty() {
        return Ok(n);
    }
    let (mut ids, mut nos) = (vec![], vec![]);
    for r in refs {
        match r {
            PrintedRef::Book { book: BookKey::Id(id), .. } => ids.push(*id),
            PrintedRef::Book { book: BookKey::No { book_no, .. }, .. } => nos.push(book_no.clone()),
            PrintedRef::Device { .. } => {}
        }
    }
    if !ids.is_empty() || !nos.is_empty() {
        let filter = doc! { "clientId": client_id, "$or": [ { "_id": { "$in": ids } }, { "bookNo": { "$in": nos } } ] };
        n.books = all(s, books(db), filter).await?;
    }
    if let Some(d) = device.filter(|_| refs.iter().any(|r| matches!(r, PrintedRef::Device { .. }))) {
        n.series = all(s, series(db), doc! { "clientId": client_id, "deviceId": d }).await?;
    }
    let mut candidates: HashSet<String> = HashSet::new();
    for r in refs {
        match r {
            PrintedRef::Book { book, serial } => {
                for b in n.books.iter().filter(|b| match book {
                    BookKey::Id(id) => b.id == *id,
                    BookKey::No { book_no, .. } => &b.book_no == book_no,
                }) {
                    if (b.first_serial..=b.last_serial).contains(serial) {
                        candidates.insert(b.number(*serial));
                    }
                }
            }
            PrintedRef::Device { number } => {
                candidates.insert(number.clone());
            }
        }
    }
    if !candidates.is_empty() {
        let list: Vec<&String> = candidates.iter().collect();
        let mut cur = invoices(db)
            .clone_with_type::<Document>()
            .find(doc! { "clientId": client_id, "invoiceNumber": { "$in": list } })
            .projection(doc! { "invoiceNumber": 1 })
            .session(&mut *s)
            .await?;
        while let Some(d) = cur.next(&mut *s).await.transpose()? {
            if let Ok(num) = d.get_str("invoiceNumber") {
                n.taken.insert(num.to_string());
            }
        }
    }
    Ok(n)
}

/// Record the printed numbers these new invoices use, in the caller's transaction: a book
/// leaf counts as used (guarded on the leaf not being cancelled meanwhile: 409
/// `NUMBER_USED`; the write also makes a concurrent cancellation of the book conflict), a
/// device series moves its `highest` and `usedCount`.
pub async fn record_uses(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    invs: &[&InvoiceDoc],
) -> Result<(), AppError> {
    let now = DateTime::now();
    for inv in invs {
        if let Some(r) = &inv.offline_bill_ref {
            let res = books(db)
                .update_one(
                    scoped(client_id, doc! { "_id": r.book_id, "cancelled.serial": { "$ne": r.serial } }),
                    doc! { "$inc": { "usedCount": 1_i64 }, "$set": { "updatedAt": now } },
                )
                .session(&mut *s)
                .await?;
            if res.matched_count != 1 {
                return Err(AppError::conflict(
                    NUMBER_USED,
                    format!("offlineBillRef.serial: leaf {} of book {} was cancelled", r.serial, r.book_no),
                ));
            }
        }
        if let Some(sn) = &inv.device_series {
            series(db)
                .update_one(
                    scoped(client_id, doc! { "_id": sn.series_id }),
                    doc! { "$max": { "highest": sn.seq }, "$inc": { "usedCount": 1_i64 }, "$set": { "updatedAt": now } },
                )
                .session(&mut *s)
                .await?;
        }
    }
    Ok(())
}

/// Whether an invoice insert failed on its (printed) number: the unique `(clientId,
/// invoiceNumber)` index or one leaf / series number per invoice.
pub fn number_clash(e: &mongodb::error::Error, inv: &InvoiceDoc) -> Option<AppError> {
    (is_duplicate_key(e) && (inv.offline_bill_ref.is_some() || inv.device_series.is_some())).then(|| {
        AppError::conflict(
            NUMBER_USED,
            format!("{} is already an invoice's number", inv.invoice_number.as_deref().unwrap_or_default()),
        )
    })
}

/// The device's series of a year, if allotted.
pub async fn series_of_device(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    device: &str,
    fy: &str,
) -> Result<Option<DeviceSeriesDoc>, AppError> {
    Ok(series(db)
        .find_one(doc! { "clientId": client_id, "deviceId": device, "financialYear": fy })
        .session(&mut *s)
        .await?)
}

/// Insert a device series (unique per device and year, and by prefix per shop and year).
pub async fn insert_series(db: &Database, s: &mut ClientSession, d: &DeviceSeriesDoc) -> Result<(), AppError> {
    series(db).insert_one(d).session(&mut *s).await?;
    Ok(())
}

/// One series of the shop (`None`: missing or another shop's).
pub async fn find_series(
    db: &Database,
    client_id: ObjectId,
    id: ObjectId,
) -> Result<Option<DeviceSeriesDoc>, AppError> {
    Ok(series(db).find_one(scoped(client_id, doc! { "_id": id })).await?)
}

/// The sequences of `series` that invoices carry.
pub async fn series_seqs(db: &Database, client_id: ObjectId, series_id: ObjectId) -> Result<Vec<i64>, AppError> {
    let docs: Vec<Document> = invoices(db)
        .clone_with_type::<Document>()
        .find(doc! { "clientId": client_id, "deviceSeries.seriesId": series_id })
        .projection(doc! { "deviceSeries.seq": 1 })
        .await?
        .try_collect()
        .await?;
    Ok(docs.iter().filter_map(|d| d.get_document("deviceSeries").ok()?.get_i64("seq").ok()).collect())
}
