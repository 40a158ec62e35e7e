"""The permission engine: vocabulary, policy table, guard, list filters and exports."""
