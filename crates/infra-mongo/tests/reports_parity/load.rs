//! Writing a [`Plan`] into a store through its ports, exactly as the application would: catalog
//! inserts, ledger commits (many changes each), purchase orders through the ledger, then the
//! product move and the deletion.

use std::collections::HashMap;

use contract_tests::{fixtures, Stores};
use domain::ids::MovementId;
use domain::stock::models::DocumentWrite;

use super::plan::{Movement, Plan};

/// Writes `plan` into `s`, checking that every change leaves the level's stock the plan expects.
pub async fn load(s: &Stores, plan: &Plan) {
    for t in &plan.tenants {
        for p in &t.products {
            s.products
                .insert(&t.id, p, None)
                .await
                .expect("insert product");
        }
        for v in &t.variants {
            s.variants
                .insert(&t.id, v, None)
                .await
                .expect("insert variant");
        }
        s.suppliers
            .insert(&t.id, &t.supplier, None)
            .await
            .expect("insert supplier");
    }

    let planned: HashMap<MovementId, &Movement> =
        plan.movements.iter().map(|m| (m.id, m)).collect();
    let mut committed_movements = 0;
    for (tenant, write) in &plan.commits {
        let committed = s
            .ledger
            .commit(tenant, write.clone())
            .await
            .expect("commit planned changes");
        for applied in &committed.applied {
            // The plan moves on hand with every change.
            let m = applied.movement.as_ref().expect("a planned movement");
            let expected = planned[&m.id];
            assert_eq!(
                (
                    m.variant_id,
                    m.location_id,
                    m.quantity,
                    m.created_at,
                    m.stock_after
                ),
                (
                    expected.variant,
                    expected.location,
                    expected.quantity,
                    expected.at,
                    expected.stock_after
                ),
                "movement {} as committed",
                m.id
            );
        }
        committed_movements += committed.applied.len();
    }
    assert_eq!(committed_movements, plan.movements.len());

    for t in &plan.tenants {
        for po in &t.purchase_orders {
            s.ledger
                .commit(
                    &t.id,
                    fixtures::document(DocumentWrite::InsertPurchaseOrder(po.clone())),
                )
                .await
                .expect("insert purchase order");
        }
    }

    let (tenant, variant, product) = plan.moved;
    let mut moved = s
        .variants
        .get(&tenant, &variant)
        .await
        .expect("read variant")
        .expect("the variant to move exists");
    moved.product_id = product;
    s.variants
        .update(&tenant, &moved, None)
        .await
        .expect("move the variant");

    let (tenant, variant) = plan.deleted;
    s.variants
        .delete(&tenant, &variant, None)
        .await
        .expect("the sold-out variant can be deleted");
}
