//! Incident templates: saved by staff, read when a form is opened from one.
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};

use super::{now, StoreError};
use crate::domain::{
    ComponentPlan, Impact, IncidentStatus, TemplateName, TemplateTitle, UpdateBody,
};
use crate::entity::incident_template;

/// A template as staff save it.
pub struct TemplateInput {
    pub name: TemplateName,
    pub title: TemplateTitle,
    pub message: UpdateBody,
    pub status: IncidentStatus,
    pub impact: Impact,
    pub components: ComponentPlan,
    pub notify: bool,
}

/// A stored template, read back into its types.
#[derive(Debug, Clone)]
pub struct TemplateView {
    pub model: incident_template::Model,
    pub status: IncidentStatus,
    pub impact: Impact,
    pub components: ComponentPlan,
}

fn view(model: incident_template::Model) -> Result<TemplateView, sea_orm::DbErr> {
    let what = format_args!("template {}", model.id);
    Ok(TemplateView {
        status: super::read(IncidentStatus::parse(&model.status), what)?,
        impact: super::read(Impact::parse(&model.impact), what)?,
        components: super::read(ComponentPlan::from_json(&model.components), what)?,
        model,
    })
}

/// Every template, by name.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<TemplateView>, sea_orm::DbErr> {
    incident_template::Entity::find()
        .order_by_asc(incident_template::Column::Name)
        .order_by_asc(incident_template::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(view)
        .collect()
}

pub async fn find(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<Option<TemplateView>, sea_orm::DbErr> {
    incident_template::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(view)
        .transpose()
}

/// Refuses a name another template has (ignoring case: staff pick by name).
async fn name_is_free(
    db: &impl ConnectionTrait,
    name: &TemplateName,
    except: Option<i32>,
) -> Result<(), StoreError> {
    let taken = incident_template::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .any(|t| Some(t.id) != except && t.name.to_lowercase() == name.as_str().to_lowercase());
    if taken {
        return Err(StoreError::Conflict {
            field: "name",
            message: "Another template has this name: pick another.".into(),
        });
    }
    Ok(())
}

pub async fn create(db: &DatabaseConnection, t: TemplateInput) -> Result<TemplateView, StoreError> {
    let txn = super::begin_write(db).await?;
    name_is_free(&txn, &t.name, None).await?;
    let at = now();
    let m = incident_template::ActiveModel {
        name: Set(t.name.as_str().to_owned()),
        title: Set(t.title.as_str().to_owned()),
        message: Set(t.message.as_str().to_owned()),
        status: Set(t.status.as_str().to_owned()),
        impact: Set(t.impact.as_str().to_owned()),
        components: Set(t.components.to_json()),
        notify: Set(t.notify),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(view(m)?)
}

pub async fn update(
    db: &DatabaseConnection,
    id: i32,
    t: TemplateInput,
) -> Result<TemplateView, StoreError> {
    let txn = super::begin_write(db).await?;
    let current = incident_template::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound)?;
    name_is_free(&txn, &t.name, Some(id)).await?;
    let mut m: incident_template::ActiveModel = current.into();
    m.name = Set(t.name.as_str().to_owned());
    m.title = Set(t.title.as_str().to_owned());
    m.message = Set(t.message.as_str().to_owned());
    m.status = Set(t.status.as_str().to_owned());
    m.impact = Set(t.impact.as_str().to_owned());
    m.components = Set(t.components.to_json());
    m.notify = Set(t.notify);
    m.updated_at = Set(now());
    let m = m.update(&txn).await?;
    txn.commit().await?;
    Ok(view(m)?)
}

pub async fn delete(db: &DatabaseConnection, id: i32) -> Result<(), StoreError> {
    let res = incident_template::Entity::delete_many()
        .filter(incident_template::Column::Id.eq(id))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
