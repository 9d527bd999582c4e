//! Reading a whole account into the snapshot model, for `snapshot` and `audit`: every Region's
//! catalog and tables, and the recovery points of the tables the caller picks.

use super::clients::Clients;
use super::{backup, dynamodb, tagging, AwsEnv, DESCRIBE_RATE};
use crate::error::Error;
use crate::model::{RecoveryPoint, RegionCatalog, RegionSnapshot, Snapshot, Table};
use crate::ports::{Progress, Scope};
use tracing::info;

/// Which of a Region's tables a capture reads the recovery points of, one flag per table.
pub type PointsFor<'a> = dyn Fn(&RegionCatalog, &[Table]) -> Vec<bool> + Sync + 'a;

impl AwsEnv {
    /// Captures one account's Regions into the snapshot model (`snapshot` and `audit`).
    ///
    /// With `points_for`, the recovery points of the tables it picks are captured too
    /// (`ListRecoveryPointsByResource`, eight in flight under the Backup pacer), so that
    /// `maxRecoveryPointAgeHours` can be judged from the snapshot. Which tables is the caller's
    /// decision, not this adapter's: the CLI picks those the rule's one decision path would
    /// read recovery points for.
    ///
    /// `progress` hears each phase as it ends, with counts, an estimate before a paced phase
    /// that will take long, and each table of the counted phases (describing tables, reading
    /// recovery points): the CLI shows them so minutes of reading are not silent.
    pub async fn capture(
        &self,
        regions: &[String],
        points_for: Option<&PointsFor<'_>>,
        progress: &dyn Progress,
    ) -> Result<Snapshot, Error> {
        let account = self.caller_account().await?;
        let mut out = Vec::new();
        for region in regions {
            progress.note(format!(
                "{region}: reading AWS Backup (plans, selections, vaults)"
            ));
            let scope = Scope {
                account: account.clone(),
                region: region.clone(),
                role_arn: None,
            };
            let clients = self.clients(&scope).await?;
            // The vault list is captured too: policy parameters and missing vaults offline.
            let catalog = backup::load_catalog(
                &clients.backup,
                &clients.backup_pace,
                &scope,
                None,
                None,
                false,
            )
            .await?
            .into_complete()?;
            progress.note(format!(
                "{region}: {} plan(s), {} selection(s), {} vault(s); reading tables and tags",
                catalog.plans.len(),
                catalog
                    .plans
                    .iter()
                    .map(|p| p.selections.len())
                    .sum::<usize>(),
                catalog.vaults.as_ref().map_or(0, |v| v.len())
            ));
            progress.start(format!("{region}: reading tags"), None);
            let tags = tagging::table_tags(&clients.tagging, None, Some(progress)).await;
            progress.finish();
            let tags = tags?;
            let described = dynamodb::Described {
                what: format!("{region}: describing tables"),
                progress,
            };
            let tables = dynamodb::tables(
                &clients.dynamodb,
                None,
                Some(&tags),
                DESCRIBE_RATE,
                None,
                Some(&described),
            )
            .await?;
            progress.note(format!("{region}: {} table(s)", tables.len()));
            let points = match points_for {
                Some(pick) => {
                    let picked = pick(&catalog, &tables);
                    let wanted: Vec<&Table> = tables
                        .iter()
                        .zip(picked)
                        .filter_map(|(t, p)| p.then_some(t))
                        .collect();
                    self.recovery_points_of(&clients, &catalog, &wanted, progress)
                        .await?
                }
                None => Default::default(),
            };
            info!(region = %region, plans = catalog.plans.len(), tables = tables.len(),
                recovery_points_of = points.len(), "captured");
            out.push(RegionSnapshot {
                catalog,
                tables,
                recovery_points: points,
            });
        }
        Ok(Snapshot {
            account_id: account,
            captured_at: Some(chrono::Utc::now()),
            regions: out,
        })
    }
}

impl AwsEnv {
    /// The recovery points of the tables the catalog covers, by table name.
    async fn recovery_points_of(
        &self,
        clients: &Clients,
        catalog: &RegionCatalog,
        covered: &[&Table],
        progress: &dyn Progress,
    ) -> Result<std::collections::BTreeMap<String, Vec<RecoveryPoint>>, Error> {
        use futures_util::stream::{self, StreamExt, TryStreamExt};
        let rate = self.settings.backup_reads_per_second;
        progress.note(format!(
            "{}: reading the recovery points of {} covered table(s) at {rate}/s, about {} s",
            catalog.region,
            covered.len(),
            (covered.len() as u64).div_ceil(u64::from(rate.max(1)))
        ));
        progress.start(
            format!("{}: recovery points", catalog.region),
            Some(covered.len() as u64),
        );
        let points = stream::iter(covered.iter().copied())
            .map(|t| async move {
                let points = backup::recovery_points(
                    &clients.backup,
                    &clients.backup_pace,
                    None,
                    &t.arn.arn,
                )
                .await?;
                progress.advance(1);
                Ok::<_, Error>((t.name.clone(), points))
            })
            .buffered(8)
            .try_collect()
            .await;
        progress.finish();
        points
    }
}
