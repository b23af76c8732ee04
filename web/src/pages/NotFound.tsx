import { PageTitle } from '../components/ui';
import { Link } from '../lib/router';

export function NotFoundPage({ adminOnly }: { adminOnly?: boolean }) {
  return (
    <section>
      <PageTitle title="Not found">{adminOnly ? 'For administrators only' : 'Page not found'}</PageTitle>
      <p>
        {adminOnly ? 'This page is for rolegate administrators.' : 'There is no such page.'} Go to{' '}
        <Link to="/data">My data</Link>.
      </p>
    </section>
  );
}
