"""ui layer (see GUIDE: arrows point inwards only)."""
