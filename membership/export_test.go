package membership

// AttendanceRooms is how many rooms hold attendance in m.
func AttendanceRooms(m *MemStore) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.attendance)
}
