//! B1-B8 handlers. A `clientId` in the path, query or body is bound to the token before
//! these run (403 on mismatch); the tenant used below is always the token's.

use axum::{extract::State, http::StatusCode, Json};

use crate::{
    catalog::{
        dto::{
            CreateGroupRequest, CreateItemRequest, GroupDeletedResponse, ItemDeletedResponse, ItemGroupResponse,
            ItemGroupsResponse, ItemResponse, ItemWire, ItemsResponse, LabelWire, ListItemsQuery, LookupQuery,
            LookupResponse, UpdateGroupRequest, UpdateItemRequest,
        },
        service,
    },
    error::AppResult,
    extract::{ApiJson, ApiPath, ApiQuery, AuthClient},
    openapi::ErrorBody,
    state::AppState,
    validate,
};

/// B1: create an item group (name unique per shop, ignoring case).
#[utoipa::path(post, path = "/business/item-groups", tag = "catalog", security(("bearer" = [])),
    request_body = CreateGroupRequest,
    responses(
        (status = 201, description = "Created", body = ItemGroupResponse),
        (status = 400, description = "Validation (unknown fields included)", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Body clientId is another client's", body = ErrorBody),
        (status = 409, description = "A group with this name exists (code DUPLICATE)", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("items_manage"))),
)]
pub async fn create_group(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiJson(req): ApiJson<CreateGroupRequest>,
) -> AppResult<(StatusCode, Json<ItemGroupResponse>)> {
    let g = service::create_group(&state, auth.client_id, req).await?;
    Ok((StatusCode::CREATED, Json(ItemGroupResponse { success: true, item_group: g.into() })))
}

/// B2: the shop's item groups, by name.
#[utoipa::path(get, path = "/business/item-groups/{clientId}", tag = "catalog", security(("bearer" = [])),
    params(("clientId" = String, Path, description = "Must be the token's client")),
    responses(
        (status = 200, description = "Groups", body = ItemGroupsResponse),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Another client's id", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("catalog_view"))),
)]
pub async fn list_groups(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(client_id): ApiPath<String>,
) -> AppResult<Json<ItemGroupsResponse>> {
    validate::oid("params.clientId", &client_id)?;
    let groups = service::list_groups(&state, auth.client_id).await?;
    Ok(Json(ItemGroupsResponse { success: true, item_groups: groups.into_iter().map(Into::into).collect() }))
}

/// B3: rename or describe a group.
#[utoipa::path(put, path = "/business/item-groups/{clientId}/{groupId}", tag = "catalog", security(("bearer" = [])),
    params(
        ("clientId" = String, Path, description = "Must be the token's client"),
        ("groupId" = String, Path, description = "Item group id"),
    ),
    request_body = UpdateGroupRequest,
    responses(
        (status = 200, description = "Updated", body = ItemGroupResponse),
        (status = 400, description = "Validation or malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Another client's id", body = ErrorBody),
        (status = 404, description = "No such group for this client", body = ErrorBody),
        (status = 409, description = "A group with this name exists", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("items_manage"))),
)]
pub async fn update_group(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath((_client_id, group_id)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<UpdateGroupRequest>,
) -> AppResult<Json<ItemGroupResponse>> {
    let id = validate::oid("params.groupId", &group_id)?;
    let g = service::update_group(&state, crate::audit::who(&auth), auth.client_id, id, req).await?;
    Ok(Json(ItemGroupResponse { success: true, item_group: g.into() }))
}

/// B4: delete a group for real; its items stay, ungrouped (one transaction).
#[utoipa::path(delete, path = "/business/item-groups/{clientId}/{groupId}", tag = "catalog", security(("bearer" = [])),
    params(
        ("clientId" = String, Path, description = "Must be the token's client"),
        ("groupId" = String, Path, description = "Item group id"),
    ),
    responses(
        (status = 200, description = "Deleted", body = GroupDeletedResponse),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Another client's id", body = ErrorBody),
        (status = 404, description = "No such group for this client", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("items_manage"))),
)]
pub async fn delete_group(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath((_client_id, group_id)): ApiPath<(String, String)>,
) -> AppResult<Json<GroupDeletedResponse>> {
    let id = validate::oid("params.groupId", &group_id)?;
    let n = service::delete_group(&state, auth.client_id, id).await?;
    Ok(Json(GroupDeletedResponse { success: true, message: "Item group deleted".into(), ungrouped_items: n }))
}

/// B5: create an item (price in rupees, at most two decimals).
#[utoipa::path(post, path = "/business/items", tag = "catalog", security(("bearer" = [])),
    request_body = CreateItemRequest,
    responses(
        (status = 201, description = "Created (`item.productId` = `_id`)", body = ItemResponse),
        (status = 400, description = "Validation, unknown fields, foreign groupId/dealerIds", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Body clientId is another client's", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("items_create"))),
)]
pub async fn create_item(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiJson(req): ApiJson<CreateItemRequest>,
) -> AppResult<(StatusCode, Json<ItemResponse>)> {
    let item = service::create_item(&state, auth.client_id, auth.by(), req).await?;
    Ok((StatusCode::CREATED, Json(ItemResponse { success: true, item: item.into() })))
}

/// B6: the shop's items (active by default), optionally by group, name search and pages.
#[utoipa::path(get, path = "/business/items/{clientId}", tag = "catalog", security(("bearer" = [])),
    params(("clientId" = String, Path, description = "Must be the token's client"), ListItemsQuery),
    responses(
        (status = 200, description = "Items (`nextCursor` only when `limit` was sent)", body = ItemsResponse),
        (status = 400, description = "Malformed query", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Another client's id", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("catalog_view"))),
)]
pub async fn list_items(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(client_id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ListItemsQuery>,
) -> AppResult<Json<ItemsResponse>> {
    validate::oid("params.clientId", &client_id)?;
    let (items, next_cursor) = service::list_items(&state, auth.client_id, q).await?;
    let defaults = service::tax_defaults(&state, auth.client_id, &items).await?;
    let items = items.into_iter().map(|i| ItemWire::with_defaults(i, &defaults)).collect();
    Ok(Json(ItemsResponse { success: true, items, next_cursor }))
}

/// B7: update the catalog fields of an item (deleted items too).
#[utoipa::path(put, path = "/business/items/{clientId}/{itemId}", tag = "catalog", security(("bearer" = [])),
    params(
        ("clientId" = String, Path, description = "Must be the token's client"),
        ("itemId" = String, Path, description = "Item id"),
    ),
    request_body = UpdateItemRequest,
    responses(
        (status = 200, description = "Updated (with `productId`)", body = ItemResponse),
        (status = 400, description = "Validation, unknown fields, foreign groupId/dealerIds", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Another client's id", body = ErrorBody),
        (status = 404, description = "No such item for this client", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("items_manage"))),
)]
pub async fn update_item(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath((_client_id, item_id)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<UpdateItemRequest>,
) -> AppResult<Json<ItemResponse>> {
    let id = validate::oid("params.itemId", &item_id)?;
    let item = service::update_item(&state, crate::audit::who(&auth), auth.by(), auth.client_id, id, req).await?;
    Ok(Json(ItemResponse { success: true, item: item.into() }))
}

/// B8: soft delete (`isActive: false`); the item stays resolvable for invoices and history.
#[utoipa::path(delete, path = "/business/items/{clientId}/{itemId}", tag = "catalog", security(("bearer" = [])),
    params(
        ("clientId" = String, Path, description = "Must be the token's client"),
        ("itemId" = String, Path, description = "Item id"),
    ),
    responses(
        (status = 200, description = "Deactivated (idempotent)", body = ItemDeletedResponse),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Another client's id", body = ErrorBody),
        (status = 404, description = "No such item for this client", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("items_manage"))),
)]
pub async fn delete_item(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath((_client_id, item_id)): ApiPath<(String, String)>,
) -> AppResult<Json<ItemDeletedResponse>> {
    let id = validate::oid("params.itemId", &item_id)?;
    service::delete_item(&state, auth.client_id, id).await?;
    Ok(Json(ItemDeletedResponse { success: true, message: "Item deleted".into() }))
}

/// Find the item a scanned or typed code names (scan-to-bill; issue 16): its SKU or barcode
/// (a 12-digit UPC-A and its 13-digit EAN form are one code; leading zeros count; never an
/// internal id), or a weighed-goods label of the shop's `clientSettings.catalog.scaleLabel`
/// layout (then `label` carries the printed amount). One indexed read.
#[utoipa::path(get, path = "/business/items/lookup", tag = "catalog", security(("bearer" = [])),
    params(LookupQuery),
    responses(
        (status = 200, description = "The item (and the label's reading)", body = LookupResponse),
        (status = 400, description = "code missing, blank or longer than 40 characters", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 404, description = "No item of this shop has this code", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("catalog_view"))),
)]
pub async fn lookup_item(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiQuery(q): ApiQuery<LookupQuery>,
) -> AppResult<Json<LookupResponse>> {
    let found = service::lookup(&state, auth.client_id, q.code.as_deref().unwrap_or("")).await?;
    let defaults = service::tax_defaults(&state, auth.client_id, std::slice::from_ref(&found.item)).await?;
    Ok(Json(LookupResponse {
        success: true,
        item: ItemWire::with_defaults(found.item, &defaults),
        label: found.label.map(|l| LabelWire { item_code: l.item_code, amount: l.amount }),
    }))
}
