import { useTheme } from './theme';

/** A toggle button: pressed means the dark theme is on. Its name stays "Dark theme" either way. */
export function ThemeToggle() {
  const theme = useTheme((s) => s.theme);
  const toggle = useTheme((s) => s.toggle);
  return (
    <button
      type="button"
      className="theme-toggle"
      aria-pressed={theme === 'dark'}
      title={theme === 'dark' ? 'Dark theme is on' : 'Dark theme is off'}
      onClick={toggle}
    >
      <span aria-hidden="true" className="theme-toggle-icon">
        {theme === 'dark' ? '☾' : '☀'}
      </span>
      <span className="theme-toggle-text">Dark theme</span>
    </button>
  );
}
