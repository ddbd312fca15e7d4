//! Components and their groups.
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};

use super::{now, StoreError};
use crate::domain::{ComponentName, ComponentStatus};
use crate::entity::{component, component_group};

pub struct ComponentInput {
    pub name: ComponentName,
    pub description: String,
    /// The group's name; a group is made the first time it is named.
    pub group: Option<ComponentName>,
    pub position: i32,
    pub status: ComponentStatus,
    /// Whether and from when the page shows its uptime bars; `None` leaves
    /// them as they are (shown, since it was added, for a new component).
    pub uptime: Option<UptimeDisplay>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UptimeDisplay {
    pub show: bool,
    /// Uptime counts from this day in the page's zone; `None`: since it was added.
    pub start: Option<chrono::NaiveDate>,
}

#[derive(Debug, Clone)]
pub struct ComponentView {
    pub model: component::Model,
    pub status: ComponentStatus,
    pub group: Option<component_group::Model>,
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<ComponentView>, sea_orm::DbErr> {
    let groups = component_group::Entity::find().all(db).await?;
    let comps = component::Entity::find()
        .filter(component::Column::DeletedAt.is_null())
        .order_by_asc(component::Column::Position)
        .order_by_asc(component::Column::Id)
        .all(db)
        .await?;
    let mut views: Vec<ComponentView> = comps
        .into_iter()
        .map(|c| {
            Ok(ComponentView {
                status: super::read(
                    ComponentStatus::parse(&c.status),
                    format_args!("the status of component {}", c.id),
                )?,
                group: c
                    .group_id
                    .and_then(|g| groups.iter().find(|x| x.id == g).cloned()),
                model: c,
            })
        })
        .collect::<Result<_, sea_orm::DbErr>>()?;
    // Grouped components sit together, in the order of their group's position.
    views.sort_by_key(|v| {
        (
            v.group
                .as_ref()
                .map(|g| (g.position, g.id))
                .unwrap_or((v.model.position, 0)),
            v.model.position,
            v.model.id,
        )
    });
    Ok(views)
}

pub async fn find(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<Option<component::Model>, sea_orm::DbErr> {
    component::Entity::find_by_id(id)
        .filter(component::Column::DeletedAt.is_null())
        .one(db)
        .await
}

async fn group_id(
    db: &impl ConnectionTrait,
    name: Option<&ComponentName>,
    position: i32,
) -> Result<Option<i32>, sea_orm::DbErr> {
    let Some(name) = name else { return Ok(None) };
    if let Some(g) = component_group::Entity::find()
        .filter(component_group::Column::Name.eq(name.as_str()))
        .one(db)
        .await?
    {
        return Ok(Some(g.id));
    }
    let at = now();
    let g = component_group::ActiveModel {
        name: Set(name.as_str().to_owned()),
        position: Set(position),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(Some(g.id))
}

pub async fn create(
    db: &DatabaseConnection,
    input: ComponentInput,
) -> Result<component::Model, StoreError> {
    let txn = super::begin_write(db).await?;
    let group_id = group_id(&txn, input.group.as_ref(), input.position).await?;
    let at = now();
    let m = component::ActiveModel {
        name: Set(input.name.as_str().to_owned()),
        description: Set(input.description),
        group_id: Set(group_id),
        position: Set(input.position),
        status: Set(input.status.as_str().to_owned()),
        show_uptime: Set(input.uptime.is_none_or(|u| u.show)),
        uptime_start: Set(input.uptime.and_then(|u| u.start)),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(m)
}

/// Changes a component; a change of status outside an incident notifies subscribers
/// (when `notify`) through the same outbox as incident updates.
pub async fn update(
    db: &DatabaseConnection,
    id: i32,
    input: ComponentInput,
    notify: bool,
) -> Result<component::Model, StoreError> {
    let txn = super::begin_write(db).await?;
    let current = find(&txn, id).await?.ok_or(StoreError::NotFound)?;
    let old_status = current.status.clone();
    let status_changed = old_status != input.status.as_str();
    let group_id = group_id(&txn, input.group.as_ref(), input.position).await?;
    let mut m: component::ActiveModel = current.into();
    m.name = Set(input.name.as_str().to_owned());
    m.description = Set(input.description);
    m.group_id = Set(group_id);
    m.position = Set(input.position);
    m.status = Set(input.status.as_str().to_owned());
    if let Some(u) = input.uptime {
        m.show_uptime = Set(u.show);
        m.uptime_start = Set(u.start);
    }
    m.updated_at = Set(now());
    let m = m.update(&txn).await?;
    let old_status = super::read(
        ComponentStatus::parse(&old_status),
        format_args!("the status of component {id}"),
    )?;
    if status_changed {
        super::uptime::record(&txn, id, m.updated_at, old_status, input.status, None).await?;
    }
    if status_changed && notify {
        super::outbox::write(
            &txn,
            super::outbox::Event::ComponentChange {
                component_id: id,
                old_status,
                new_status: input.status,
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(m)
}

/// Takes a component off the page. The row stays, archived, so that past
/// incidents still say which components they affected.
pub async fn delete(db: &DatabaseConnection, id: i32) -> Result<(), StoreError> {
    let res = component::Entity::update_many()
        .col_expr(
            component::Column::DeletedAt,
            sea_orm::sea_query::Expr::value(now()),
        )
        .filter(component::Column::Id.eq(id))
        .filter(component::Column::DeletedAt.is_null())
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
