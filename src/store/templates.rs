//! Incident templates: saved by staff, read when a form is opened from one.
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};

use super::{now, StoreError};
use crate::domain::{
    ComponentPlan, ComponentStatus, Impact, IncidentStatus, ParseError, TemplateName,
    TemplateTitle, UpdateBody,
};
use crate::entity::incident_template;

/// The plan as stored: `{"3": "major_outage"}`.
fn plan_to_json(plan: &ComponentPlan) -> String {
    let map: serde_json::Map<String, serde_json::Value> = plan
        .0
        .iter()
        .map(|(id, s)| (id.to_string(), s.as_str().into()))
        .collect();
    serde_json::Value::Object(map).to_string()
}

fn plan_from_json(s: &str) -> Result<ComponentPlan, ParseError> {
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(s)
        .map_err(|e| ParseError::new(format!("unreadable components: {e}")))?;
    let mut out = Vec::new();
    for (k, v) in map {
        let id = k
            .parse::<i32>()
            .map_err(|_| ParseError::new(format!("unreadable component id {k:?}")))?;
        let status = v
            .as_str()
            .ok_or_else(|| ParseError::new(format!("component {id}: a status is text")))?;
        out.push((id, ComponentStatus::parse(status)?));
    }
    out.sort_by_key(|(id, _)| *id);
    Ok(ComponentPlan(out))
}

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
        components: super::read(plan_from_json(&model.components), what)?,
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
        components: Set(plan_to_json(&t.components)),
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
    m.components = Set(plan_to_json(&t.components));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_round_trip_and_refuse_junk() {
        let plan = ComponentPlan(vec![
            (3, ComponentStatus::MajorOutage),
            (5, ComponentStatus::Operational),
        ]);
        assert_eq!(plan_from_json(&plan_to_json(&plan)), Ok(plan));
        assert!(plan_from_json(r#"{"x": "operational"}"#).is_err());
        assert!(plan_from_json(r#"{"3": "on_fire"}"#).is_err());
    }
}
