"""分析研判: hot issues with early warnings, and periodic reports (HTML with charts, XLSX, CSV)."""
