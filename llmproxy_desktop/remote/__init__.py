"""remote layer (see GUIDE: arrows point inwards only)."""
