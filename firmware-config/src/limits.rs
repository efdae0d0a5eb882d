use serde::Deserialize;

/// Size limits of the sensor's tables and buffers.
///
/// The defaults fit an edge box with 512 MiB to 1 GiB of RAM: the whole sensor
/// stays under about 64 MiB resident however large or hostile the traffic.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CapacityLimits {
    /// Concurrent flows (TCP connections and UDP conversations) tracked; the
    /// least recently seen flow is evicted past this.
    pub max_flows: usize,
    /// A flow idle this long (capture time) is closed, in seconds.
    pub flow_idle_timeout_secs: u64,
    /// Out-of-order bytes held per direction of a TCP flow, waiting for a hole to fill.
    pub reassembly_window_bytes: usize,
    /// Out-of-order segments held per direction of a TCP flow.
    pub reassembly_max_segments: usize,
    /// Bytes held by all reassembly buffers together (out-of-order segments
    /// and partial PDUs) across every flow.
    pub reassembly_budget_bytes: usize,
    /// Bytes held by all application messages being assembled from several
    /// chunks (OPC UA) across every flow.
    pub message_budget_bytes: usize,
    /// Requests awaiting their response, per flow.
    pub max_pending_transactions: usize,
    /// Assets in the inventory.
    pub max_assets: usize,
    /// Communication edges in the inventory.
    pub max_edges: usize,
    /// IT service edges (conversations no ICS dissector recognised, by
    /// transport and server port) in the inventory.
    pub max_service_edges: usize,
    /// Distinct address ranges kept per edge, unit and data table; past this,
    /// the closest ranges are merged.
    pub max_ranges_per_table: usize,
}

impl Default for CapacityLimits {
    fn default() -> Self {
        CapacityLimits {
            max_flows: 65_536,
            flow_idle_timeout_secs: 600,
            reassembly_window_bytes: 64 * 1024,
            reassembly_max_segments: 16,
            reassembly_budget_bytes: 16 * 1024 * 1024,
            message_budget_bytes: 8 * 1024 * 1024,
            max_pending_transactions: 32,
            max_assets: 16_384,
            max_edges: 65_536,
            max_service_edges: 16_384,
            max_ranges_per_table: 32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_table_keeps_other_defaults() {
        let limits: CapacityLimits = toml::from_str("max_flows = 1024").unwrap();
        assert_eq!(limits.max_flows, 1024);
        assert_eq!(limits.max_assets, CapacityLimits::default().max_assets);
    }

    #[test]
    fn unknown_field_is_refused_by_name() {
        let err = toml::from_str::<CapacityLimits>("max_flow = 1").unwrap_err();
        assert!(err.to_string().contains("max_flow"), "{err}");
    }
}
