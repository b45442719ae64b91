//! Handlers of paper bill books (`/api/business/bill-books`, issue 17). The tenant is the
//! token's; a foreign id answers 404 like a missing one. Registering, editing and cancelling
//! Registering and editing a book need `settings` (the owner and admins; a shop may grant it
//! to its managers through `roleGrants`), cancelling a leaf `cancel` (voiding a document:
//! managers too), reading `sales_view`.

use axum::{extract::State, http::StatusCode, Json};

use crate::{
    billing::numbering::{
        dto::{
            BookReportResponse, BookResponse, BookWire, BooksQuery, BooksResponse, CancelSerialRequest, CancelledWire,
            CreateBookRequest, UpdateBookRequest, UsedLeafWire,
        },
        service,
    },
    error::AppResult,
    extract::{ApiJson, ApiPath, ApiQuery, AuthClient},
    openapi::ErrorBody,
    state::AppState,
    validate, wire,
};

/// Register a paper bill book `{bookNo, prefix, firstSerial, lastSerial, financialYear?}`.
#[utoipa::path(post, path = "/business/bill-books", tag = "bill-books", security(("bearer" = [])),
    request_body = CreateBookRequest,
    responses(
        (status = 201, description = "Registered", body = BookResponse),
        (status = 400, description = "Validation: bookNo, prefix (letters, digits, - and /; the largest number at most 16 characters, GST rule 46), firstSerial, lastSerial (at most 10,000 leaves), financialYear", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Lacks settings", body = ErrorBody),
        (status = 409, description = "DUPLICATE: the book number is registered for that year; CONFLICT: a number would print twice (another book, a device series, the server's INV/ numbers)", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("settings"))),
)]
pub async fn create_book(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiJson(req): ApiJson<CreateBookRequest>,
) -> AppResult<(StatusCode, Json<BookResponse>)> {
    let b = service::create(&state, auth.client_id, req).await?;
    Ok((StatusCode::CREATED, Json(BookResponse { success: true, book: (&b).into() })))
}

/// The shop's bill books, newest financial year first, then by book number.
#[utoipa::path(get, path = "/business/bill-books", tag = "bill-books", security(("bearer" = [])),
    params(BooksQuery),
    responses(
        (status = 200, description = "Books", body = BooksResponse),
        (status = 400, description = "financialYear malformed", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Lacks sales_view", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("sales_view"))),
)]
pub async fn list_books(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiQuery(q): ApiQuery<BooksQuery>,
) -> AppResult<Json<BooksResponse>> {
    let list = service::list(&state, auth.client_id, q.financial_year.as_deref().map(str::trim)).await?;
    Ok(Json(BooksResponse { success: true, books: list.iter().map(Into::into).collect() }))
}

/// One bill book.
#[utoipa::path(get, path = "/business/bill-books/{bookId}", tag = "bill-books", security(("bearer" = [])),
    params(("bookId" = String, Path, description = "Bill book id")),
    responses(
        (status = 200, description = "The book", body = BookResponse),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Lacks sales_view", body = ErrorBody),
        (status = 404, description = "No such book for this shop", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("sales_view"))),
)]
pub async fn get_book(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Json<BookResponse>> {
    let id = validate::oid("params.bookId", &id)?;
    let b = service::get(&state, auth.client_id, id).await?;
    Ok(Json(BookResponse { success: true, book: (&b).into() }))
}

/// Edit a bill book (its number width stays; a used book keeps its prefix and first serial).
#[utoipa::path(patch, path = "/business/bill-books/{bookId}", tag = "bill-books", security(("bearer" = [])),
    params(("bookId" = String, Path, description = "Bill book id")),
    request_body = UpdateBookRequest,
    responses(
        (status = 200, description = "Updated", body = BookResponse),
        (status = 400, description = "Validation as at registration; malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Lacks settings", body = ErrorBody),
        (status = 404, description = "No such book for this shop", body = ErrorBody),
        (status = 409, description = "BOOK_IN_USE (used or cancelled leaves), DUPLICATE book number, CONFLICT overlapping numbers", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("settings"))),
)]
pub async fn update_book(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<UpdateBookRequest>,
) -> AppResult<Json<BookResponse>> {
    let id = validate::oid("params.bookId", &id)?;
    let b = service::update(&state, auth.client_id, id, req).await?;
    Ok(Json(BookResponse { success: true, book: (&b).into() }))
}

/// Mark a leaf spoilt or cancelled `{serial, reason}`: it is never entered as a bill.
#[utoipa::path(post, path = "/business/bill-books/{bookId}/cancel-serial", tag = "bill-books", security(("bearer" = [])),
    params(("bookId" = String, Path, description = "Bill book id")),
    request_body = CancelSerialRequest,
    responses(
        (status = 200, description = "Cancelled; the book", body = BookResponse),
        (status = 400, description = "serial outside the book, reason missing; malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Lacks cancel", body = ErrorBody),
        (status = 404, description = "No such book for this shop", body = ErrorBody),
        (status = 409, description = "NUMBER_USED: the leaf was entered as a bill or is cancelled already", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("cancel"))),
)]
pub async fn cancel_serial(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<CancelSerialRequest>,
) -> AppResult<Json<BookResponse>> {
    let id = validate::oid("params.bookId", &id)?;
    let b = service::cancel_serial(&state, auth.client_id, id, req, auth.by()).await?;
    Ok(Json(BookResponse { success: true, book: (&b).into() }))
}

/// The leaves of a book: used (with their invoices), cancelled, unused.
#[utoipa::path(get, path = "/business/bill-books/{bookId}/report", tag = "bill-books", security(("bearer" = [])),
    params(("bookId" = String, Path, description = "Bill book id")),
    responses(
        (status = 200, description = "The book's leaves", body = BookReportResponse),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Lacks sales_view", body = ErrorBody),
        (status = 404, description = "No such book for this shop", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("sales_view"))),
)]
pub async fn book_report(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Json<BookReportResponse>> {
    let id = validate::oid("params.bookId", &id)?;
    let (b, used, unused) = service::report(&state, auth.client_id, id).await?;
    let book = BookWire::from(&b);
    Ok(Json(BookReportResponse {
        success: true,
        used: used
            .into_iter()
            .map(|(serial, inv, number)| UsedLeafWire { serial, number, invoice_id: inv.to_hex() })
            .collect(),
        cancelled: b
            .cancelled
            .iter()
            .map(|c| CancelledWire {
                serial: c.serial,
                number: b.number(c.serial),
                reason: c.reason.clone(),
                at: wire::iso(c.at),
            })
            .collect(),
        unused,
        book,
    }))
}
