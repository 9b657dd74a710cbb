//! Catalog use cases: products and variants. Stock is never written here — only the ledger
//! changes it — so a variant is created at 0 and its stock is read-only to these use cases.

use std::sync::Arc;

use super::models::{
    NewProduct, NewVariant, Product, ProductPatch, Variant, VariantFilter, VariantPatch,
};
use crate::auth::models::{Action, Actor};
use crate::error::{DomainError, StoreError};
use crate::idempotency::{Idempotency, Outcome};
use crate::ids::{ProductId, VariantId};
use crate::pagination::{Page, PageRequest};
use crate::precondition::{
    delete_guard, lost_race, next_edit_time, retries, Precondition, EDIT_ATTEMPTS,
};
use crate::services::Deps;

#[derive(Clone)]
pub struct CatalogService {
    deps: Arc<Deps>,
}

fn sku_taken(sku: &crate::values::Sku) -> DomainError {
    DomainError::Conflict(format!("SKU '{sku}' already exists in this tenant"))
}

impl CatalogService {
    pub fn new(deps: Arc<Deps>) -> Self {
        Self { deps }
    }

    pub async fn create_product(
        &self,
        actor: &Actor,
        new: NewProduct,
        idem: Option<Idempotency<Product>>,
    ) -> Result<Outcome<Product>, DomainError> {
        actor.require(Action::WriteCatalog)?;
        let tenant = actor.tenant_id;
        self.deps
            .idempotent(actor, idem, |scope| async move {
                let now = self.deps.clock.now();
                let product = Product {
                    id: ProductId::new(),
                    tenant_id: tenant,
                    name: new.name,
                    description: new.description,
                    created_at: now,
                    updated_at: now,
                };
                let record = scope.map(|s| s.record(&product));
                self.deps.products.insert(&tenant, &product, record).await?;
                Ok(product)
            })
            .await
    }

    pub async fn get_product(&self, actor: &Actor, id: &ProductId) -> Result<Product, DomainError> {
        actor.require(Action::ReadCatalog)?;
        self.deps
            .products
            .get(&actor.tenant_id, id)
            .await?
            .ok_or(DomainError::NotFound("product"))
    }

    pub async fn list_products(
        &self,
        actor: &Actor,
        page: &PageRequest,
    ) -> Result<Page<Product>, DomainError> {
        actor.require(Action::ReadCatalog)?;
        Ok(self.deps.products.list(&actor.tenant_id, page).await?)
    }

    /// Applies `patch` if `precondition` admits the product's current version; the write is
    /// conditional on the version read, so a concurrent edit makes it a refusal, never a lost
    /// update.
    pub async fn update_product(
        &self,
        actor: &Actor,
        id: &ProductId,
        patch: ProductPatch,
        precondition: Option<Precondition>,
    ) -> Result<Product, DomainError> {
        actor.require(Action::WriteCatalog)?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut product = self.get_product(actor, id).await?;
            let read = product.version();
            Precondition::check(precondition.as_ref(), "product", read)?;
            if let Some(name) = patch.name.clone() {
                product.name = name;
            }
            if let Some(description) = patch.description.clone() {
                product.description = description;
            }
            product.updated_at = next_edit_time(product.updated_at, self.deps.clock.now());
            match self
                .deps
                .products
                .update(&actor.tenant_id, &product, Some(read))
                .await
            {
                Ok(()) => return Ok(product),
                Err(StoreError::NotFound) => return Err(DomainError::NotFound("product")),
                Err(StoreError::VersionConflict)
                    if retries(precondition.as_ref()) && attempt < EDIT_ATTEMPTS => {}
                Err(StoreError::VersionConflict) => {
                    return Err(lost_race(precondition.as_ref(), "product", id.to_string()))
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Deletes a product with its variants; refused while any of them holds stock.
    /// With a `precondition` naming versions, the delete is conditional on the current one.
    pub async fn delete_product(
        &self,
        actor: &Actor,
        id: &ProductId,
        precondition: Option<Precondition>,
    ) -> Result<(), DomainError> {
        actor.require(Action::WriteCatalog)?;
        let current = match precondition {
            Some(Precondition::OneOf(_)) => Some(self.get_product(actor, id).await?.version()),
            _ => None,
        };
        let expected = delete_guard(precondition.as_ref(), "product", current)?;
        match self
            .deps
            .products
            .delete(&actor.tenant_id, id, expected)
            .await
        {
            Ok(()) => Ok(()),
            Err(StoreError::NotFound) => Err(DomainError::NotFound("product")),
            Err(StoreError::VersionConflict) => {
                Err(DomainError::PreconditionFailed { entity: "product" })
            }
            Err(StoreError::InUse) => Err(DomainError::Conflict(
                "the product has variants with stock; bring their stock to 0 first".into(),
            )),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn create_variant(
        &self,
        actor: &Actor,
        new: NewVariant,
        idem: Option<Idempotency<Variant>>,
    ) -> Result<Outcome<Variant>, DomainError> {
        actor.require(Action::WriteCatalog)?;
        let tenant = actor.tenant_id;
        if self
            .deps
            .products
            .get(&tenant, &new.product_id)
            .await?
            .is_none()
        {
            return Err(DomainError::invalid("productId", "no such product"));
        }
        self.deps
            .idempotent(actor, idem, |scope| async move {
                let now = self.deps.clock.now();
                let variant = Variant {
                    id: VariantId::new(),
                    tenant_id: tenant,
                    product_id: new.product_id,
                    sku: new.sku,
                    attributes: new.attributes,
                    price: new.price,
                    reorder_level: new.reorder_level,
                    stock: 0,
                    state: Default::default(),
                    incoming: 0,
                    levels: Vec::new(),
                    in_transit: 0,
                    created_at: now,
                    updated_at: now,
                };
                let record = scope.map(|s| s.record(&variant));
                match self.deps.variants.insert(&tenant, &variant, record).await {
                    Ok(()) => Ok(variant),
                    Err(StoreError::Duplicate) => Err(sku_taken(&variant.sku)),
                    // Deleted since it was read: the store checks it inside the write.
                    Err(StoreError::NotFound) => {
                        Err(DomainError::invalid("productId", "no such product"))
                    }
                    Err(e) => Err(e.into()),
                }
            })
            .await
    }

    pub async fn get_variant(&self, actor: &Actor, id: &VariantId) -> Result<Variant, DomainError> {
        actor.require(Action::ReadCatalog)?;
        self.deps
            .variants
            .get(&actor.tenant_id, id)
            .await?
            .ok_or(DomainError::NotFound("variant"))
    }

    pub async fn list_variants(
        &self,
        actor: &Actor,
        filter: &VariantFilter,
        page: &PageRequest,
    ) -> Result<Page<Variant>, DomainError> {
        actor.require(Action::ReadCatalog)?;
        Ok(self
            .deps
            .variants
            .list(&actor.tenant_id, filter, page)
            .await?)
    }

    /// Applies `patch` if `precondition` admits the variant's current (catalog) version; the
    /// write is conditional on the version read, as for products.
    pub async fn update_variant(
        &self,
        actor: &Actor,
        id: &VariantId,
        patch: VariantPatch,
        precondition: Option<Precondition>,
    ) -> Result<Variant, DomainError> {
        actor.require(Action::WriteCatalog)?;
        if let Some(product_id) = &patch.product_id {
            if self
                .deps
                .products
                .get(&actor.tenant_id, product_id)
                .await?
                .is_none()
            {
                return Err(DomainError::invalid("productId", "no such product"));
            }
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut variant = self.get_variant(actor, id).await?;
            let read = variant.version();
            Precondition::check(precondition.as_ref(), "variant", read)?;
            if let Some(product_id) = patch.product_id {
                variant.product_id = product_id;
            }
            if let Some(sku) = patch.sku.clone() {
                variant.sku = sku;
            }
            if let Some(attributes) = patch.attributes.clone() {
                variant.attributes = attributes;
            }
            if let Some(price) = patch.price {
                variant.price = price;
            }
            if let Some(level) = patch.reorder_level {
                variant.reorder_level = level;
            }
            variant.updated_at = next_edit_time(variant.updated_at, self.deps.clock.now());
            match self
                .deps
                .variants
                .update(&actor.tenant_id, &variant, Some(read))
                .await
            {
                Ok(()) => break,
                Err(StoreError::NotFound) => return Err(DomainError::NotFound("variant")),
                Err(StoreError::Duplicate) => return Err(sku_taken(&variant.sku)),
                Err(StoreError::VersionConflict)
                    if retries(precondition.as_ref()) && attempt < EDIT_ATTEMPTS => {}
                Err(StoreError::VersionConflict) => {
                    return Err(lost_race(precondition.as_ref(), "variant", id.to_string()))
                }
                Err(e) => return Err(e.into()),
            }
        }
        // Re-read so stock and incoming reflect the store, not the copy read before the write.
        self.get_variant(actor, id).await
    }

    /// With a `precondition` naming versions, the delete is conditional on the current one.
    pub async fn delete_variant(
        &self,
        actor: &Actor,
        id: &VariantId,
        precondition: Option<Precondition>,
    ) -> Result<(), DomainError> {
        actor.require(Action::WriteCatalog)?;
        let current = match precondition {
            Some(Precondition::OneOf(_)) => Some(self.get_variant(actor, id).await?.version()),
            _ => None,
        };
        let expected = delete_guard(precondition.as_ref(), "variant", current)?;
        match self
            .deps
            .variants
            .delete(&actor.tenant_id, id, expected)
            .await
        {
            Ok(()) => Ok(()),
            Err(StoreError::NotFound) => Err(DomainError::NotFound("variant")),
            Err(StoreError::VersionConflict) => {
                Err(DomainError::PreconditionFailed { entity: "variant" })
            }
            Err(StoreError::InUse) => Err(DomainError::Conflict(
                "the variant has stock; bring it to 0 first".into(),
            )),
            Err(e) => Err(e.into()),
        }
    }
}
