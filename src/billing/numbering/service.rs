//! Bill books and device series: registration (checked by `rules`, serialised per shop and
//! year, no number shared with another series of the year), edits, cancelled leaves, the
//! book report, and a device's series with its gaps.

use bson::oid::ObjectId;

use crate::{
    access::By,
    billing::numbering::{
        dto::{CancelSerialRequest, CreateBookRequest, UpdateBookRequest},
        repo,
        rules::{self, BookDraft, Series},
        BillBookDoc, CancelledLeaf, DeviceSeriesDoc, BOOK_IN_USE, NUMBER_USED,
    },
    db,
    error::{code, AppError, AppResult},
    state::AppState,
};

fn not_found() -> AppError {
    AppError::not_found("Bill book not found")
}

/// The prefixes of the server's own series (issue 17: one per document type): the shop's GST
/// profile's, else the defaults (`INV`, `BOS`: a profile set later starts with them).
async fn counter_prefixes(state: &AppState, client_id: ObjectId) -> AppResult<Vec<String>> {
    let (_, profile) = crate::billing::repo::shop_profile(&state.db, client_id).await?;
    let s = profile.map(|p| p.series).unwrap_or_default();
    Ok(vec![s.invoice, s.bill_of_supply])
}

/// 409 when `new` shares a number with a book or series of its year, or one of the server's
/// own counter series (`counters`: `INV/<fy>/`, `BOS/<fy>/`, ...); `skip` is the book being
/// edited.
fn check_collisions(
    new: &Series,
    fy: &str,
    counters: &[String],
    books: &[BillBookDoc],
    series: &[DeviceSeriesDoc],
    skip: Option<ObjectId>,
) -> AppResult<()> {
    if let Some(p) = counters.iter().find(|p| rules::collides(new, &Series::counter(p, fy))) {
        return Err(AppError::conflict(
            code::CONFLICT,
            format!("its numbers would be the server's own numbers ({p}/{fy}/...)"),
        ));
    }
    if let Some(b) = books.iter().find(|b| Some(b.id) != skip && rules::collides(new, &b.series())) {
        return Err(AppError::conflict(
            code::CONFLICT,
            format!(
                "its numbers overlap book {} ({}..{})",
                b.book_no,
                b.number(b.first_serial),
                b.number(b.last_serial)
            ),
        ));
    }
    if let Some(d) = series.iter().find(|d| rules::collides(new, &d.series())) {
        return Err(AppError::conflict(code::CONFLICT, format!("its numbers overlap device series {}", d.prefix)));
    }
    Ok(())
}

/// Register a book: 400 naming the fields (`rules::check_book`), 409 `DUPLICATE` for a book
/// number the shop has in that year, 409 `CONFLICT` when a number could print twice.
pub async fn create(state: &AppState, client_id: ObjectId, req: CreateBookRequest) -> AppResult<BillBookDoc> {
    let now = state.clock.now();
    let draft = BookDraft {
        book_no: req.book_no.trim().to_string(),
        prefix: req.prefix.trim().to_string(),
        first_serial: req.first_serial,
        last_serial: req.last_serial,
        financial_year: req
            .financial_year
            .map(|f| f.trim().to_string())
            .unwrap_or_else(|| crate::time::financial_year(now)),
    };
    let width = rules::check_book(&draft, None).map_err(AppError::Validation)?;
    let counters = counter_prefixes(state, client_id).await?;
    let book = BillBookDoc {
        id: ObjectId::new(),
        client_id,
        book_no: draft.book_no,
        prefix: draft.prefix,
        first_serial: draft.first_serial,
        last_serial: draft.last_serial,
        width,
        financial_year: draft.financial_year,
        cancelled: vec![],
        used_count: 0,
        created_at: now,
        updated_at: now,
        version: 0,
    };
    db::transaction(&state.client, &(&state.db, &book, &counters), |s, (database, b, counters)| {
        Box::pin(async move {
            repo::serialize(database, s, b.client_id, &b.financial_year).await?;
            let (books, series) = repo::year(database, s, b.client_id, &b.financial_year).await?;
            if books.iter().any(|x| x.book_no == b.book_no) {
                return Err(AppError::conflict(
                    code::DUPLICATE,
                    format!("book {} is already registered for {}", b.book_no, b.financial_year),
                ));
            }
            check_collisions(&b.series(), &b.financial_year, counters, &books, &series, None)?;
            repo::insert_book(database, s, b).await
        })
    })
    .await?;
    Ok(book)
}

/// The shop's books (of one financial year when asked).
pub async fn list(state: &AppState, client_id: ObjectId, fy: Option<&str>) -> AppResult<Vec<BillBookDoc>> {
    if fy.is_some_and(|f| !rules::valid_fy(f)) {
        return Err(AppError::validation("financialYear", "must look like 26-27"));
    }
    repo::list_books(&state.db, client_id, fy).await
}

/// One book of the shop (404 for a missing or foreign id).
pub async fn get(state: &AppState, client_id: ObjectId, id: ObjectId) -> AppResult<BillBookDoc> {
    let mut s = state.client.start_session().await?;
    repo::find_book(&state.db, &mut s, client_id, id).await?.ok_or_else(not_found)
}

/// Edit a book (see `dto::UpdateBookRequest`): the same checks as registration, the width
/// kept (a leaf's number never changes).
pub async fn update(
    state: &AppState,
    client_id: ObjectId,
    id: ObjectId,
    req: UpdateBookRequest,
) -> AppResult<BillBookDoc> {
    let now = state.clock.now();
    let counters = counter_prefixes(state, client_id).await?;
    let ctx = (&state.db, client_id, id, &req, now, &counters);
    db::transaction(&state.client, &ctx, |s, (database, client_id, id, req, now, counters)| {
        Box::pin(async move {
            let (database, client_id, id, now) = (*database, *client_id, *id, *now);
            let cur = repo::find_book(database, s, client_id, id).await?.ok_or_else(not_found)?;
            let draft = BookDraft {
                book_no: req.book_no.as_deref().map(str::trim).unwrap_or(&cur.book_no).to_string(),
                prefix: req.prefix.as_deref().map(str::trim).unwrap_or(&cur.prefix).to_string(),
                first_serial: req.first_serial.unwrap_or(cur.first_serial),
                last_serial: req.last_serial.unwrap_or(cur.last_serial),
                financial_year: cur.financial_year.clone(),
            };
            let width = rules::check_book(&draft, Some(cur.width)).map_err(AppError::Validation)?;
            let used = repo::used_leaves(database, client_id, id).await?;
            let touched: Vec<i64> = used.iter().map(|u| u.0).chain(cur.cancelled.iter().map(|c| c.serial)).collect();
            if !touched.is_empty() {
                if draft.prefix != cur.prefix || draft.first_serial != cur.first_serial {
                    return Err(AppError::conflict(
                        BOOK_IN_USE,
                        "the book has used or cancelled leaves: its prefix and first serial are fixed",
                    ));
                }
                if let Some(max) = touched.iter().max().filter(|m| **m > draft.last_serial) {
                    return Err(AppError::conflict(
                        BOOK_IN_USE,
                        format!("lastSerial: leaf {max} is used or cancelled"),
                    ));
                }
            }
            repo::serialize(database, s, client_id, &cur.financial_year).await?;
            let (books, series) = repo::year(database, s, client_id, &cur.financial_year).await?;
            if books.iter().any(|x| x.id != id && x.book_no == draft.book_no) {
                return Err(AppError::conflict(
                    code::DUPLICATE,
                    format!("book {} is already registered for {}", draft.book_no, cur.financial_year),
                ));
            }
            let next = BillBookDoc {
                book_no: draft.book_no,
                prefix: draft.prefix,
                first_serial: draft.first_serial,
                last_serial: draft.last_serial,
                width,
                updated_at: now,
                ..cur.clone()
            };
            check_collisions(&next.series(), &next.financial_year, counters, &books, &series, Some(id))?;
            if !repo::update_book(database, s, &next).await? {
                return Err(AppError::conflict(code::CONFLICT, "the book changed meanwhile; retry"));
            }
            Ok(BillBookDoc { version: cur.version + 1, ..next })
        })
    })
    .await
}

/// Mark a leaf spoilt or cancelled: 400 outside the book or without a reason; 409
/// `NUMBER_USED` when a bill was entered on it or it is cancelled already.
pub async fn cancel_serial(
    state: &AppState,
    client_id: ObjectId,
    id: ObjectId,
    req: CancelSerialRequest,
    by: By,
) -> AppResult<BillBookDoc> {
    let reason = req.reason.trim().to_string();
    if reason.is_empty() || reason.chars().count() > rules::REASON_LEN {
        return Err(AppError::validation("reason", format!("must be 1 to {} characters", rules::REASON_LEN)));
    }
    let leaf = CancelledLeaf { serial: req.serial, reason, at: state.clock.now(), by: Some(by) };
    let ctx = (&state.db, client_id, id, &leaf);
    db::transaction(&state.client, &ctx, |s, (database, client_id, id, leaf)| {
        Box::pin(async move {
            let (database, client_id, id) = (*database, *client_id, *id);
            let b = repo::find_book(database, s, client_id, id).await?.ok_or_else(not_found)?;
            if leaf.serial < b.first_serial || leaf.serial > b.last_serial {
                return Err(AppError::validation(
                    "serial",
                    format!("{} is outside book {} ({}..{})", leaf.serial, b.book_no, b.first_serial, b.last_serial),
                ));
            }
            if repo::leaf_invoice(database, s, client_id, id, leaf.serial).await?.is_some() {
                return Err(AppError::conflict(
                    NUMBER_USED,
                    format!("serial: leaf {} ({}) was entered as a bill", leaf.serial, b.number(leaf.serial)),
                ));
            }
            if !repo::cancel_leaf(database, s, client_id, id, leaf).await? {
                return Err(AppError::conflict(
                    NUMBER_USED,
                    format!("serial: leaf {} is already cancelled", leaf.serial),
                ));
            }
            let mut b = b;
            b.cancelled.push((*leaf).clone());
            b.version += 1;
            b.updated_at = leaf.at;
            Ok(b)
        })
    })
    .await
}

/// A book's leaves: used (serial, invoice id, number), cancelled (on the book), unused.
pub async fn report(
    state: &AppState,
    client_id: ObjectId,
    id: ObjectId,
) -> AppResult<(BillBookDoc, Vec<(i64, ObjectId, String)>, Vec<i64>)> {
    let b = get(state, client_id, id).await?;
    let used = repo::used_leaves(&state.db, client_id, id).await?;
    let gone: std::collections::HashSet<i64> =
        used.iter().map(|u| u.0).chain(b.cancelled.iter().map(|c| c.serial)).collect();
    let unused = (b.first_serial..=b.last_serial).filter(|s| !gone.contains(s)).collect();
    Ok((b, used, unused))
}

/// The device's series of financial year `fy` (default: the current one), allotted on the
/// first call (`D<n>-<fy>/`, the lowest free n whose numbers no book of the year prints);
/// the same series on every later call.
pub async fn allot_series(
    state: &AppState,
    client_id: ObjectId,
    device: &str,
    fy: Option<String>,
) -> AppResult<DeviceSeriesDoc> {
    let now = state.clock.now();
    let fy = fy.map(|f| f.trim().to_string()).unwrap_or_else(|| crate::time::financial_year(now));
    if !rules::valid_fy(&fy) {
        return Err(AppError::validation("financialYear", "must look like 26-27"));
    }
    let counters = counter_prefixes(state, client_id).await?;
    let ctx = (&state.db, client_id, device, fy.as_str(), now, &counters);
    db::transaction(&state.client, &ctx, |s, (database, client_id, device, fy, now, counters)| {
        Box::pin(async move {
            let (database, client_id, device, fy, now) = (*database, *client_id, *device, *fy, *now);
            if let Some(d) = repo::series_of_device(database, s, client_id, device, fy).await? {
                return Ok(d);
            }
            repo::serialize(database, s, client_id, fy).await?;
            let (books, series) = repo::year(database, s, client_id, fy).await?;
            let mut n = series.len() as i64 + 1;
            loop {
                let (code, prefix) = rules::device_prefix(n, fy);
                let probe =
                    Series { prefix: prefix.clone(), first: 1, last: rules::SERIES_LAST, width: rules::SERIES_WIDTH };
                let clash = series.iter().any(|d| d.code == code)
                    || books.iter().any(|b| rules::collides(&probe, &b.series()))
                    || counters.iter().any(|p| rules::collides(&probe, &Series::counter(p, fy)));
                if !clash {
                    let d = DeviceSeriesDoc {
                        id: ObjectId::new(),
                        client_id,
                        device_id: device.to_string(),
                        financial_year: fy.to_string(),
                        code,
                        prefix,
                        highest: 0,
                        used_count: 0,
                        created_at: now,
                        updated_at: now,
                    };
                    repo::insert_series(database, s, &d).await?;
                    return Ok(d);
                }
                n += 1;
                if n > 999 {
                    return Err(AppError::conflict(code::CONFLICT, "no device series is free for this year"));
                }
            }
        })
    })
    .await
}

/// A series of the shop (404 for a missing or foreign id) and the numbers missing below its
/// highest (at most `cap` listed) with their count.
pub async fn series_gaps(
    state: &AppState,
    client_id: ObjectId,
    id: ObjectId,
    cap: usize,
) -> AppResult<(DeviceSeriesDoc, Vec<String>, i64)> {
    let d =
        repo::find_series(&state.db, client_id, id).await?.ok_or_else(|| AppError::not_found("Series not found"))?;
    let seqs = repo::series_seqs(&state.db, client_id, id).await?;
    let highest = seqs.iter().copied().max().unwrap_or(0);
    let count = highest - seqs.iter().collect::<std::collections::HashSet<_>>().len() as i64;
    let missing = rules::missing(&seqs, highest, cap).into_iter().map(|q| d.number(q)).collect();
    Ok((d, missing, count))
}
