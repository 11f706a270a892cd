// Small form helpers: a labelled field, a section, and a mutation runner that shows the payload's
// user errors (or a thrown error with its retry) and a success line.
import { useId, useState, type ReactNode } from 'react';
import type { UserError } from '@arrears/sdk';
import { ErrorBox, useUi } from './app.tsx';
import { enumLabel } from './i18n.ts';

export function Field({ label, children, hint }: { label: string; children: (id: string) => ReactNode; hint?: string }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children(id)}
      {hint ? <small className="muted">{hint}</small> : null}
    </div>
  );
}

export interface Outcome {
  userErrors?: readonly UserError[] | null;
}

/** Runs a write; returns what to render under its form. */
export function useMutation() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [userErrors, setUserErrors] = useState<readonly UserError[] | null>(null);
  const [ok, setOk] = useState<string | null>(null);
  const [last, setLast] = useState<(() => Promise<void>) | null>(null);

  async function run<T extends Outcome>(write: () => Promise<T>, onDone: (payload: T) => string | void): Promise<void> {
    const attempt = async () => {
      setBusy(true);
      setError(null);
      setUserErrors(null);
      setOk(null);
      try {
        const p = await write();
        if (p.userErrors?.length) setUserErrors(p.userErrors);
        else setOk(onDone(p) ?? null);
      } catch (e) {
        setError(e);
      } finally {
        setBusy(false);
      }
    };
    setLast(() => attempt);
    await attempt();
  }

  function Status() {
    return (
      <>
        <ErrorBox error={error} userErrors={userErrors} onRetry={last ? () => void last() : undefined} />
        {ok ? (
          <p className="ok" role="status" data-testid="ok">
            {ok}
          </p>
        ) : null}
      </>
    );
  }
  return { run, busy, Status };
}

export function Section({ title, children, id }: { title: string; children: ReactNode; id: string }) {
  return (
    <section className="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

export function SubmitButton({ busy, children }: { busy: boolean; children: ReactNode }) {
  const { t } = useUi();
  return (
    <button type="submit" disabled={busy} aria-busy={busy}>
      {busy ? t('loading') : children}
    </button>
  );
}

/** The options of a select over enum values: the value is sent, its label in the language shown. */
export function EnumOptions({ values }: { values: readonly string[] }) {
  const { lang } = useUi();
  return (
    <>
      {values.map((v) => (
        <option key={v} value={v}>
          {enumLabel(lang, v)}
        </option>
      ))}
    </>
  );
}
