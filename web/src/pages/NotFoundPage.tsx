import { useDocumentTitle } from '../hooks.js';
import { Link } from '../router.js';

export function NotFoundPage() {
  useDocumentTitle('Page not found');
  return (
    <>
      <h1>Page not found</h1>
      <p>There is no page at this address.</p>
      <p>
        <Link to="/organizations">Go to organizations</Link>
      </p>
    </>
  );
}
