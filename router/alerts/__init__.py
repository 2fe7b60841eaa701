"""Risk alerts of collective labour disputes (群体性劳动纠纷): group_dispute and mass_report."""
