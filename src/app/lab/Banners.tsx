import { fieldErrorText, FIELD_META } from '../../ui/HyperparameterForm';
import type { FormField } from '../runUrl';
import { useLab } from '../store';

function labelOf(field: string): string {
  const meta = FIELD_META[field as FormField];
  return meta ? meta.label : field.charAt(0).toUpperCase() + field.slice(1);
}

/** Notices (role="status") and errors (role="alert") above the dock, visible even when it is closed. */
export function Banners() {
  const notice = useLab((s) => s.status?.notice ?? null);
  const restartNotice = useLab((s) => s.restartNotice);
  const dismissRestartNotice = useLab((s) => s.dismissRestartNotice);
  const engineError = useLab((s) => s.status?.error ?? null);
  const error = useLab((s) => s.error);
  const urlErrors = useLab((s) => s.urlErrors);
  const dismissError = useLab((s) => s.dismissError);

  return (
    <div className="banners">
      {urlErrors.length > 0 && (
        <div className="banner banner-error" role="alert">
          <p>
            <strong>The run in this link did not start:</strong>{' '}
            {urlErrors
              .map((e) => fieldErrorText(labelOf(String(e.field)), e.message))
              .join(' ')}{' '}
            The hyperparameters form shows it; correct it there and press Apply.
          </p>
        </div>
      )}
      {restartNotice && (
        <div className="banner banner-notice" role="status" data-testid="restart-notice">
          <p>
            {restartNotice}{' '}
            <button type="button" className="link-button" onClick={dismissRestartNotice}>
              Dismiss
            </button>
          </p>
        </div>
      )}
      {notice && (
        <div className="banner banner-notice" role="status" data-testid="notice">
          <p>{notice}</p>
        </div>
      )}
      {(engineError || error) && (
        <div className="banner banner-error" role="alert" data-testid="engine-error">
          {engineError && <p>{engineError}</p>}
          {error && (
            <p>
              {error}{' '}
              <button type="button" className="link-button" onClick={dismissError}>
                Dismiss
              </button>
            </p>
          )}
        </div>
      )}
    </div>
  );
}
